// The /v1 scope: every route in it calls, follows or guards Bedrock, so the security
// hooks live here and nowhere else (encapsulation), in the order a request meets them:
//   onRequest   origin check (403) -> authentication (401) -> rate limit (429)
//   validation  the route's schema (400)
//   preHandler  admission (plugins/limits.ts): for `generate`, input limits, the model
//               allowlists, this instance's open calls (503), a budget reservation (429),
//               the key's running calls (429); for `resume`, the follower caps
// so every refusal happens before the handler, and so before Bedrock is called. Each
// route declares what it does in its `config.kind` (plugins/route-kind.ts); a route that
// declares nothing stops start-up, so a new route cannot slip past the checks.
import type { FastifyInstance } from 'fastify'
import { registerAuth } from '../plugins/auth.js'
import { registerAdmission } from '../plugins/limits.js'
import { registerOriginCheck } from '../plugins/origin.js'
import { registerRateLimit } from '../plugins/rate-limit.js'
import { requireRouteKinds, type RouteKind } from '../plugins/route-kind.js'
import { converseRoutes } from './converse.js'
import { converseStreamRoutes } from './converse-stream.js'
import { openAIRoutes } from './openai.js'
import { streamRoutes } from './streams.js'
import { ticketRoutes } from './tickets.js'
import { uiChatRoutes } from './ui-chat.js'

export interface DeclaredRoute { method: string, url: string, kind: RouteKind }

export interface V1Options {
  /** Filled with every route of the scope and its declared kind (for the route table test). */
  declared: DeclaredRoute[]
}

export async function v1Routes (app: FastifyInstance, opts: V1Options): Promise<void> {
  requireRouteKinds(app, opts.declared)
  await registerOriginCheck(app)
  await registerAuth(app)
  await registerRateLimit(app)
  await registerAdmission(app)
  await app.register(converseStreamRoutes)
  await app.register(converseRoutes)
  await app.register(streamRoutes)
  await app.register(ticketRoutes)
  await app.register(openAIRoutes)
  await app.register(uiChatRoutes)
}
