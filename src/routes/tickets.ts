// POST /v1/tickets: trades the caller's credentials (Authorization header) for a
// short-lived, single-use ticket that an EventSource URL can carry (security/tickets.ts).
// `query`, when sent, binds the ticket to exactly that stream request.
import type { FastifyInstance } from 'fastify'
import { ProxyError } from '../errors.js'
import { bindingOf } from '../security/tickets.js'

interface TicketBody {
  query?: Record<string, string | number | boolean>
}

const ticketBodySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    query: {
      type: 'object',
      maxProperties: 32,
      propertyNames: { maxLength: 64, not: { const: 'ticket' } },
      additionalProperties: { anyOf: [{ type: 'string', maxLength: 100_000 }, { type: 'number' }, { type: 'boolean' }] },
    },
  },
} as const

export async function ticketRoutes (app: FastifyInstance): Promise<void> {
  app.post<{ Body: TicketBody | undefined }>('/tickets', {
    config: { kind: 'tickets' },
    schema: { body: ticketBodySchema },
    // The body is optional (a bare POST with the Authorization header); the schema wants an object.
    preValidation: async function defaultBody (request) { request.body ??= {} },
  }, async function issueTicket (request, reply) {
    const principal = request.principal
    // Set by the auth plugin for every /v1/* route; a ticket must not mint another.
    if (principal === null || principal.ticket) throw new ProxyError('unauthorized', { message: 'Tickets are issued only for an Authorization header.' })
    const query = request.body?.query
    const { ticket, claims } = app.ticketSigner.issue(principal.id, app.proxyConfig.security.ticketTtlMs, query !== undefined ? bindingOf(query) : undefined)
    // A credential: never cached by the browser or a shared proxy.
    reply.header('cache-control', 'no-store')
    return { ticket, expiresAt: new Date(claims.exp).toISOString() }
  })
}
