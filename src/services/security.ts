// The state behind tickets, budgets and stream slots, decorated on the proxy's scope:
// the security store (in memory, or on Redis with a per-instance fallback) and the
// ticket signer.
import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { FallbackSecurityStore } from '../security/fallback-store.js'
import { RedisSecurityStore } from '../security/redis-store.js'
import { MemorySecurityStore, type SecurityStore } from '../security/store.js'
import { TicketSigner } from '../security/tickets.js'

declare module 'fastify' {
  interface FastifyInstance {
    securityStore: SecurityStore
    ticketSigner: TicketSigner
  }
}

async function securityServices (app: FastifyInstance): Promise<void> {
  const settings = app.proxyConfig.security
  const redis = app.redisClient
  const store: SecurityStore = redis !== null
    ? new FallbackSecurityStore(redis, new RedisSecurityStore(redis), (err) => app.log.warn({ err }, 'redis unavailable: limits held per instance until it returns'))
    : new MemorySecurityStore()
  app.addHook('onClose', async function closeSecurityStore () { store.close() })

  if (settings.ticketSecret === undefined && settings.authMode === 'keys') {
    app.log.warn('TICKET_SECRET is not set: tickets are signed with a random per-process secret and work only on the instance that issued them')
  }
  app.decorate('securityStore', store)
  // Without Redis, ticket claims live in this process only: tickets name it (issue 7).
  app.decorate('ticketSigner', new TicketSigner(settings.ticketSecret ?? randomBytes(32), redis === null ? randomBytes(9).toString('base64url') : undefined))
  app.log.info({ auth: { mode: settings.authMode, apiKeys: settings.apiKeys.length, jwt: settings.jwt !== undefined, store: redis !== null ? 'redis' : 'memory' } }, 'security configured')
}

export default fp(securityServices, { name: 'bsp-security', fastify: '5.x', dependencies: ['bsp-core'] })
