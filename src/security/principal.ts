// Who a request acts for. Every limit (rate, streams, budget) is keyed by `id`; `name`
// is what logs show. Never holds a secret.
import type { FastifyRequest } from 'fastify'
import { lastEventIdHeader } from '../streams/resume.js'
import type { KeyLimits } from './keys.js'

export interface Principal {
  /** `key:<name>`, `jwt:<sub>` or `ip:<address>` (anonymous, loopback or ALLOW_UNAUTHENTICATED). */
  id: string
  via: 'key' | 'jwt' | 'anonymous'
  /** True when a ticket in the URL stood in for the Authorization header. */
  ticket: boolean
  limits: KeyLimits
  /** Models this principal may use, when narrower than the global allowlist. */
  models: ReadonlySet<string> | undefined
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth plugin on /v1/* routes; null elsewhere. */
    principal: Principal | null
  }
}

export function anonymous (request: FastifyRequest): Principal {
  // request.ip honours TRUST_PROXY; without it X-Forwarded-For cannot change the key.
  return { id: `ip:${request.ip}`, via: 'anonymous', ticket: false, limits: {}, models: undefined }
}

export type RouteKind = 'generate' | 'resume' | 'tickets' | 'other'

/**
 * What a request does, by its route: only `generate` calls Bedrock (and so spends the
 * budget); `resume` replays a stream already paid for (a reconnect, or following a
 * stream by id). undefined: not under /v1/. Must agree with the routes' own test for a
 * resume (routes/converse-stream.ts): when in doubt this says `generate`, never less.
 */
export function routeKind (request: FastifyRequest): RouteKind | undefined {
  const url = request.routeOptions.url
  if (url === undefined || !url.startsWith('/v1/')) return undefined
  if (url === '/v1/tickets') return 'tickets'
  if (url === '/v1/converse' && request.method === 'POST') return 'generate'
  if (url === '/v1/streams/:streamId' && request.method === 'GET') return 'resume'
  if (url === '/v1/converse-stream' && (request.method === 'GET' || request.method === 'POST')) {
    return hasLastEventId(request) || (request.method === 'GET' && queryOf(request)['lastEventId'] !== undefined) ? 'resume' : 'generate'
  }
  return 'other'
}

/** EventSource's reconnect header; an empty one does not count (as in the routes). */
export function hasLastEventId (request: FastifyRequest): boolean {
  return lastEventIdHeader(request.headers) !== undefined
}

export function queryOf (request: FastifyRequest): Record<string, unknown> {
  const query: unknown = request.query
  return query !== null && typeof query === 'object' ? query as Record<string, unknown> : {}
}
