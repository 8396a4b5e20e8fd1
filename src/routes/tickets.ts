// POST /v1/tickets: trades the caller's credentials (Authorization header) for a
// short-lived, single-use ticket that an EventSource URL can carry (security/tickets.ts).
// `query`, when sent, binds the ticket to exactly that stream request.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { ProxyError } from '../errors.js'
import { TicketBody } from '../requests.js'
import { bindingOf } from '../security/tickets.js'
import { ErrorResponses, TicketResult } from './responses.js'

export async function ticketRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.post('/tickets', {
    config: { kind: 'tickets' },
    schema: { summary: 'Trade the Authorization header for a single-use EventSource ticket', body: TicketBody, response: { 200: TicketResult, ...ErrorResponses } },
    // The body is optional (a bare POST with the Authorization header); the schema wants an object.
    preValidation: async function defaultBody (request) { request.body ??= {} },
  }, async function issueTicket (request, reply) {
    const principal = request.principal
    // Set by the auth plugin for every /v1/* route; a ticket must not mint another.
    if (principal === null || principal.ticket) throw new ProxyError('unauthorized', { message: 'Tickets are issued only for an Authorization header.' })
    const query = request.body.query
    const { ticket, claims } = app.ticketSigner.issue(principal.id, app.proxyConfig.security.ticketTtlMs, query !== undefined ? bindingOf(query) : undefined)
    // A credential: never cached by the browser or a shared proxy.
    reply.header('cache-control', 'no-store')
    return { ticket, expiresAt: new Date(claims.exp).toISOString() }
  })
}
