// Authentication of every /v1/* request, in onRequest (before the body is read, before
// any limit is counted against a key): `Authorization: Bearer <API key or JWT>`, or on
// GET a `?ticket=` (EventSource cannot send headers, FIELD-NOTES 18). With no keys and
// no JWT configured (loopback, or ALLOW_UNAUTHENTICATED) requests are anonymous and
// their limits are keyed by client IP. Sets request.principal.
import fastifyJwt from '@fastify/jwt'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ProxyError } from '../errors.js'
import { KeyStore, type ApiKey } from '../security/keys.js'
import { anonymous, queryOf, type Principal } from '../security/principal.js'
import { lastEventIdHeader } from '../streams/resume.js'
import { kindOf, type RouteKind } from './route-kind.js'
import { bindingOf } from '../security/tickets.js'

// An EventSource reconnect (Last-Event-ID) repeats the stream URL with its used ticket.
// It replays a stream already paid for and never starts a generation, so the ticket is
// accepted again for this long after expiry; the stream id it needs is in the header,
// not in the logged URL.
const RECONNECT_WINDOW_MS = 30 * 60_000
const MAX_BEARER_CHARS = 8192
// Redis reconnects within a couple of seconds (src/redis.ts); a new ticket then works.
const TICKET_RETRY_AFTER_MS = 2000
const JWT_SUB = /^[\x21-\x7e]{1,256}$/ // printable ASCII: safe as a limits key and in logs

function unauthorized (message: string): ProxyError {
  return new ProxyError('unauthorized', { message })
}

export async function registerAuth (app: FastifyInstance): Promise<void> {
  const security = app.proxyConfig.security
  const store = app.securityStore
  const signer = app.ticketSigner
  const keys = new KeyStore(security.apiKeys)
  const modelSets = new Map(security.apiKeys.map(k => [k.name, k.models !== undefined ? new Set(k.models) : undefined]))
  if (security.jwt !== undefined) {
    await app.register(fastifyJwt, {
      secret: 'secret' in security.jwt ? security.jwt.secret : { public: security.jwt.publicKey },
      verify: {
        // A token without exp would be valid forever; without sub there is no limits key.
        requiredClaims: ['sub', 'exp'],
        ...(security.jwtIssuer !== undefined ? { allowedIss: security.jwtIssuer } : {}),
        ...(security.jwtAudience !== undefined ? { allowedAud: security.jwtAudience } : {}),
      },
    })
  }
  app.decorateRequest('principal', null)
  // The OpenAI client always sends `Authorization: Bearer <apiKey>`, and has no way not
  // to. With nothing to check it against (no keys, no JWT: the loopback demo or
  // ALLOW_UNAUTHENTICATED), the OpenAI-compatible routes ignore it rather than refuse
  // every such client; the native routes still refuse it, so a misconfigured front end
  // that thinks it sends a key learns that it does not.
  const openServer = keys.size === 0 && security.jwt === undefined && security.authMode !== 'keys'
  if (openServer) app.log.info('no API keys: the Authorization header that OpenAI clients always send is ignored on the OpenAI-compatible routes (/v1/chat/completions, /v1/models)')

  const fromKey = (key: ApiKey): Principal =>
    ({ id: `key:${key.name}`, via: 'key', ticket: false, limits: key.limits, models: modelSets.get(key.name) })
  const fromJwtSub = (sub: string): Principal =>
    ({ id: `jwt:${sub}`, via: 'jwt', ticket: false, limits: {}, models: undefined })

  function fromBearer (header: string): Principal {
    const match = header.length <= MAX_BEARER_CHARS ? /^Bearer +(\S+) *$/i.exec(header) : null
    if (match === null) throw unauthorized('Use "Authorization: Bearer <key>".')
    const token = match[1] as string
    const key = keys.find(token)
    if (key !== undefined) return fromKey(key)
    if (security.jwt !== undefined && token.split('.').length === 3) {
      let sub: unknown
      try {
        sub = app.jwt.verify<{ sub?: unknown }>(token).sub
      } catch {
        throw unauthorized('The token is invalid or expired.')
      }
      if (typeof sub !== 'string' || !JWT_SUB.test(sub)) throw unauthorized('The token has no usable "sub" claim.')
      return fromJwtSub(sub)
    }
    throw unauthorized(keys.size === 0 && security.jwt === undefined ? 'This server has no API keys; send no Authorization header.' : 'The API key is not valid.')
  }

  async function fromTicket (ticket: unknown, request: FastifyRequest, kind: RouteKind): Promise<Principal> {
    if (request.method !== 'GET' || kind === 'tickets') throw unauthorized('A ticket authenticates GET requests only; send the key in the Authorization header.')
    const claims = typeof ticket === 'string' ? signer.verify(ticket) : 'malformed'
    if (typeof claims === 'string') throw unauthorized('The ticket is not valid.')
    if (claims.bnd !== undefined && claims.bnd !== bindingOf(queryOf(request))) throw unauthorized('The ticket was issued for a different request.')
    const now = Date.now()
    if (kind === 'resume' && lastEventIdHeader(request.headers) !== undefined) {
      if (now > claims.exp + RECONNECT_WINDOW_MS) throw unauthorized('The ticket has expired; get a new one.')
    } else {
      if (now > claims.exp) throw unauthorized('The ticket has expired; get a new one.')
      if (signer.instance !== undefined && claims.ins !== signer.instance) {
        throw unauthorized('The ticket was issued by another server instance (or before a restart); without REDIS_URL a ticket works only where it was issued.')
      }
      // Atomic (a Lua script on Redis): of two requests racing with one ticket, one wins.
      // A ticket whose single use cannot be proven is refused, never taken (issue 7).
      const claim = await store.claimTicket(claims.jti, claims.iat, claims.exp - now + 1000)
      if (claim === 'used') throw unauthorized('The ticket was already used; get a new one.')
      if (claim === 'unprovable') throw new ProxyError('ticket_unverifiable', { retryAfterMs: TICKET_RETRY_AFTER_MS })
    }
    const [via, ...rest] = claims.sub.split(':')
    const name = rest.join(':')
    if (via === 'key') {
      const key = keys.byName(name) // a key removed from the configuration takes its tickets with it
      if (key !== undefined) return { ...fromKey(key), ticket: true }
    } else if (via === 'jwt' && security.jwt !== undefined) {
      return { ...fromJwtSub(name), ticket: true }
    } else if (via === 'ip' && security.authMode !== 'keys') {
      return { ...anonymous(request), ticket: true }
    }
    throw unauthorized('The ticket is not valid.')
  }

  app.addHook('onRequest', async function authenticate (request: FastifyRequest, reply: FastifyReply) {
    const kind = kindOf(request)
    try {
      const header = request.headers.authorization
      const ticket = queryOf(request)['ticket']
      const ignoreBearer = openServer && request.routeOptions.config.dialect === 'openai'
      if (header !== undefined && !ignoreBearer) request.principal = fromBearer(header)
      else if (ticket !== undefined) request.principal = await fromTicket(ticket, request, kind)
      else if (security.authMode !== 'keys') request.principal = anonymous(request)
      else throw unauthorized('Send an API key as "Authorization: Bearer <key>" (or, on GET, a ticket from POST /v1/tickets).')
      // Spent: no schema, handler or log downstream ever sees the credential.
      if (ticket !== undefined) delete queryOf(request)['ticket']
    } catch (err) {
      // RFC 6750 section 3: a 401 names the scheme it wants.
      if (err instanceof ProxyError && err.code === 'unauthorized') reply.header('www-authenticate', 'Bearer realm="bedrock-sse-proxy"')
      throw err
    }
  })
}
