// What a /v1 route does, declared by the route itself in its `config` (issue 9): the
// security hooks read the declaration instead of matching URL strings, and the /v1 scope
// refuses to start with a route that declares nothing (fail closed).
//   generate  calls Bedrock: admission (input, model, caps, budget), overload refusals
//   resume    replays a stream already paid for: follower caps
//   tickets   mints tickets: never authenticated by a ticket
//   cancel    cancels a stream
//   read      reads what the server offers (GET /v1/models): authenticated and rate
//             limited, never admitted as a call
// A generating route marked `resumable` is a resume when the request asks for one.
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify'
import { lastEventIdHeader } from '../streams/resume.js'

export type RouteKind = 'generate' | 'resume' | 'tickets' | 'cancel' | 'read'
export const ROUTE_KINDS: readonly RouteKind[] = ['generate', 'resume', 'tickets', 'cancel', 'read']

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What the route does; decides which checks apply (plugins/route-kind.ts). */
    kind?: RouteKind
    /** A generating route that resumes instead when the request carries a Last-Event-ID. */
    resumable?: boolean
    /**
     * The client library the route speaks to: `openai` answers errors in OpenAI's shape
     * (plugins/error-handler.ts) and, on a server with no keys, ignores the bearer token
     * every OpenAI client sends (plugins/auth.ts).
     */
    dialect?: 'openai'
  }
}

/**
 * The one rule for what makes a request a resume: EventSource's Last-Event-ID header (an
 * empty one does not count), else `?lastEventId=` for fetch clients.
 */
export function requestedLastEventId (request: FastifyRequest): string | undefined {
  const header = lastEventIdHeader(request.headers)
  if (header !== undefined) return header
  const query = request.query as { lastEventId?: unknown } | null | undefined
  return typeof query?.lastEventId === 'string' && query.lastEventId !== '' ? query.lastEventId : undefined
}

/** What this request does. A route that declared nothing counts as generating: never less. */
export function kindOf (request: FastifyRequest): RouteKind {
  const { kind, resumable } = request.routeOptions.config
  if (kind === undefined) return 'generate'
  if (kind === 'generate' && resumable === true && requestedLastEventId(request) !== undefined) return 'resume'
  return kind
}

/** Every route registered after this in `app`'s scope must declare its kind, or start-up fails. */
export function requireRouteKinds (app: FastifyInstance, seen: Array<{ method: string, url: string, kind: RouteKind }>): void {
  app.addHook('onRoute', function checkRouteKind (route: RouteOptions) {
    const kind = route.config?.kind
    const methods = [route.method].flat().join(',')
    if (kind === undefined || !ROUTE_KINDS.includes(kind)) {
      throw new Error(`${methods} ${route.url} declares no config.kind (${ROUTE_KINDS.join(', ')}): every /v1 route must say what it does`)
    }
    seen.push({ method: methods, url: route.url, kind })
  })
}
