// Protect the wallet (issue 4), wired in the order a request meets it:
//   onRequest   origin check (403) -> authentication (401) -> rate limit (429)
//   validation  the route's schema (400)
//   preHandler  input limits, the key's models, open-call cap (503), token budget (429),
//               the key's concurrent streams (429)
// so every refusal happens before the handler, and so before Bedrock is called.
// Registered without encapsulation (fastify-plugin): the hooks cover every route.
import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { FallbackSecurityStore } from '../security/fallback-store.js'
import { RedisSecurityStore } from '../security/redis-store.js'
import { MemorySecurityStore, type SecurityStore } from '../security/store.js'
import { TicketSigner } from '../security/tickets.js'
import type { AppContext } from '../app.js'
import { ticketRoutes } from '../routes/tickets.js'
import { registerAuth } from './auth.js'
import { registerLimits } from './limits.js'
import { registerOriginCheck } from './origin.js'
import { registerRateLimit } from './rate-limit.js'

async function security (app: FastifyInstance, ctx: AppContext): Promise<void> {
  const { config } = ctx
  const settings = config.security
  const redis = ctx.redis
  const store: SecurityStore = redis !== undefined
    ? new FallbackSecurityStore(redis, new RedisSecurityStore(redis), (err) => app.log.warn({ err }, 'redis unavailable: limits held per instance until it returns'))
    : new MemorySecurityStore()
  app.addHook('onClose', async function closeSecurityStore () { store.close() })

  if (settings.ticketSecret === undefined && settings.authMode === 'keys') {
    app.log.warn('TICKET_SECRET is not set: tickets are signed with a random per-process secret and work only on the instance that issued them')
  }
  // Without Redis, ticket claims live in this process only: tickets name it (issue 7).
  const signer = new TicketSigner(settings.ticketSecret ?? randomBytes(32), redis === undefined ? randomBytes(9).toString('base64url') : undefined)
  app.log.info({ auth: { mode: settings.authMode, apiKeys: settings.apiKeys.length, jwt: settings.jwt !== undefined, store: ctx.redis !== undefined ? 'redis' : 'memory' } }, 'security configured')

  await registerOriginCheck(app, { corsOrigins: config.corsOrigins, publicOrigin: config.publicOrigin, authMode: settings.authMode })
  await registerAuth(app, { security: settings, store, signer })
  await registerRateLimit(app, settings, ctx.redis)
  await registerLimits(app, { ctx, security: settings, store })
  await app.register(ticketRoutes, { signer, ttlMs: settings.ticketTtlMs })
}

export const securityPlugin = fp(security, { name: 'bedrock-sse-proxy-security', fastify: '5.x' })
