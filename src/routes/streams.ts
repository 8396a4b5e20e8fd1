// /v1/streams/{streamId}: follow a stream by id (a second tab, a reloaded page) and
// cancel it (the Stop button), from any instance when Redis is configured.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { ProxyError } from '../errors.js'
import { eventId, parseEventId } from '../sse/format.js'
import { requestedLastEventId } from '../plugins/route-kind.js'
import { ownerOf } from '../security/principal.js'
import { mayAccess } from '../streams/resume.js'
import { FollowQuery, StreamParams } from '../requests.js'
import { CancelResult, ErrorResponses, EventStream, NothingToResume } from './responses.js'
import { resumeOrNoContent } from './sse-reply.js'

export async function streamRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.get('/streams/:streamId', {
    config: { kind: 'resume' },
    exposeHeadRoute: false,
    schema: {
      summary: 'Follow a stream by id: replay from the start (or after Last-Event-ID), then live',
      params: StreamParams,
      querystring: FollowQuery,
      response: { 200: EventStream, 204: NothingToResume, ...ErrorResponses },
    },
  }, async function followStream (request, reply) {
    // Without a Last-Event-ID: replay from the first event, then live.
    const from = requestedLastEventId(request) ?? eventId(request.params.streamId, 0)
    if (parseEventId(from)?.streamId !== request.params.streamId) {
      throw new ProxyError('bad_request', { message: 'Last-Event-ID belongs to another stream.' })
    }
    return resumeOrNoContent(request, reply, from)
  })

  app.delete('/streams/:streamId', {
    config: { kind: 'cancel' },
    schema: { summary: 'Cancel a stream at once, from any instance (the Stop button)', params: StreamParams, response: { 200: CancelResult, 202: CancelResult, ...ErrorResponses } },
  }, async function cancelStream (request, reply) {
    const { streamId } = request.params
    const requester = ownerOf(request.principal)
    const hub = app.streamHub
    const remote = app.redisStreams
    const local = hub.get(streamId)
    if (local !== undefined && mayAccess(local.owner, requester)) {
      if (hub.cancel(streamId)) return reply.code(202).send({ streamId, status: 'cancelling' })
      return reply.code(200).send({ streamId, status: 'ended' })
    }
    const info = local === undefined && remote?.healthy === true ? await remote.info(streamId).catch(() => undefined) : undefined
    if (info === undefined || !mayAccess(info.owner, requester)) throw new ProxyError('stream_not_found')
    if (info.status === 'ended' || !info.alive) return reply.code(200).send({ streamId, status: 'ended' })
    await remote?.requestCancel(streamId)
    return reply.code(202).send({ streamId, status: 'cancelling' })
  })
}
