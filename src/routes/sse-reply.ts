// Sends one SSE response that reads a stream's events (live, or replayed then live),
// and answers resumes. The reader stops when the client leaves: the response's close,
// not request.signal, which on POST fires as soon as the body is read (FIELD-NOTES 10).
import type { FastifyReply, FastifyRequest } from 'fastify'
import { ProxyError } from '../errors.js'
import type { SequencedEvent } from '../events.js'
import { ownerOf } from '../security/principal.js'
import { SSE_HEADERS, toEventStream } from '../sse/event-stream.js'
import { openReader, resumePoint } from '../streams/resume.js'

export interface ReaderHandle {
  /** Aborted when the client leaves (or on shutdown for readers of other instances' streams). */
  signal: AbortSignal
  send: (events: AsyncIterable<SequencedEvent>) => FastifyReply
}

/**
 * @param endOnShutdown true for readers of a stream produced elsewhere: on shutdown the
 * response just ends (no `done`), so EventSource reconnects and resumes on another
 * instance. Streams produced here end with their own `error` shutting_down + `done`.
 */
export function sseReply (request: FastifyRequest, reply: FastifyReply, streamId: string, endOnShutdown: boolean): ReaderHandle {
  const app = request.server
  const controller = new AbortController()
  reply.raw.on('close', function onResponseClose () {
    if (!reply.raw.writableFinished) controller.abort(new Error('client closed the stream'))
  })
  app.openResponses.track(reply.raw, () => { if (endOnShutdown) controller.abort(new Error('shutting down')) })
  return {
    signal: controller.signal,
    send: (events) => reply.code(200).headers(SSE_HEADERS).send(toEventStream(events, streamId, app.proxyConfig.heartbeatMs,
      (err) => reply.log.error({ err, streamId }, 'stream reader failed'), app.callEvents.heartbeatListener)),
  }
}

/**
 * EventSource reconnects by itself, even after a clean end, sending the last id it saw
 * (FIELD-NOTES 14). Replay what was missed and follow live; when there is nothing left
 * (fully delivered, unknown, expired) answer 204, which makes EventSource stop for good.
 * Never re-run the prompt: that would bill a second generation.
 */
export async function resumeOrNoContent (request: FastifyRequest, reply: FastifyReply, lastEventId: string): Promise<FastifyReply> {
  const app = request.server
  const point = resumePoint(lastEventId)
  if (point === 'invalid') throw new ProxyError('bad_request', { message: 'Last-Event-ID is not an id this server issued.' })
  if (point === undefined) return reply.code(204).send()
  const local = app.streamHub.get(point.streamId) !== undefined
  const handle = sseReply(request, reply, point.streamId, !local)
  const reader = await openReader(app.streamHub, app.redisStreams ?? undefined, point, handle.signal, ownerOf(request.principal))
  if (reader === undefined) return reply.code(204).send()
  return handle.send(reader.events)
}
