// Sends one SSE response that reads a stream's events (live, or replayed then live).
// The reader stops when the client leaves: the response's close, not request.signal,
// which on POST fires as soon as the body is read (FIELD-NOTES 10).
import type { FastifyReply } from 'fastify'
import type { SequencedEvent } from '../events.js'
import { SSE_HEADERS, toEventStream } from '../sse/event-stream.js'
import type { AppContext } from '../app.js'

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
export function sseReply (ctx: AppContext, reply: FastifyReply, streamId: string, endOnShutdown: boolean): ReaderHandle {
  const controller = new AbortController()
  reply.raw.on('close', function onResponseClose () {
    if (!reply.raw.writableFinished) controller.abort(new Error('client closed the stream'))
  })
  ctx.streams.track(reply.raw, () => { if (endOnShutdown) controller.abort(new Error('shutting down')) })
  return {
    signal: controller.signal,
    send: (events) => reply.code(200).headers(SSE_HEADERS).send(toEventStream(events, streamId, ctx.config.heartbeatMs,
      (err) => reply.log.error({ err, streamId }, 'stream reader failed'), ctx.heartbeatSent)),
  }
}
