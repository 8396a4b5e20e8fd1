// SSE responses that read a stream: a local reader of a stream produced here (its session
// pushes frames into it), or a remote reader of a stream produced by another instance
// (read from Redis), and the answer to a resume. A reader stops when its client leaves:
// the response's close, not request.signal, which on POST fires as soon as the body is
// read (FIELD-NOTES 10).
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { ProxyError } from '../errors.js'
import { ownerOf } from '../security/principal.js'
import { SSE_HEADERS, toEventStream } from '../sse/event-stream.js'
import type { Framing } from '../sse/framing.js'
import type { SseSink } from '../sse/sink.js'
import { mayAccess, resumePoint, type ResumePoint } from '../streams/resume.js'
import type { StreamSession } from '../streams/session.js'

/** The reader of each open response, for one shared `close` listener: no closure per stream (issue 10). */
const readers = new WeakMap<ServerResponse, SseSink>()

function detachReader (this: ServerResponse): void {
  readers.get(this)?.destroy()
}

/** Attaches a reader to a session produced here; it ends with the stream's own last events. */
export function localReader (request: FastifyRequest, reply: FastifyReply, session: StreamSession, afterSeq: number): SseSink {
  const app = request.server
  const sink = session.attach(afterSeq, app.proxyConfig.heartbeatMs, app.callEvents.heartbeatListener)
  readers.set(reply.raw, sink)
  reply.raw.once('close', detachReader)
  // On shutdown the session itself ends with `error` shutting_down + `done`.
  app.openResponses.track(reply.raw)
  return sink
}

/**
 * Commits the response to 200 text/event-stream and hands it to `sink`, which writes
 * each frame straight to it (sse/sink.ts). The reply is hijacked, so Fastify pipes and
 * watches no body; its onSend hooks do not run for it either, so what they would add is
 * set here: the headers set on the reply (CORS, rate limit: FIELD-NOTES 12), and
 * Connection: close while draining (plugin.ts). onResponse hooks (the access line) still
 * run when the response finishes.
 */
export function sendSse (request: FastifyRequest, reply: FastifyReply, sink: SseSink, headers?: Readonly<Record<string, string>>): FastifyReply {
  reply.code(200).headers(SSE_HEADERS)
  if (headers !== undefined) reply.headers(headers)
  if (request.server.lifecycle.closing) reply.header('connection', 'close')
  // Given to writeHead rather than set one by one, Node does not keep a copy of them for
  // the response's whole life. Before hijack: a header writeHead refuses is still answered
  // by the error handler.
  const out: OutgoingHttpHeaders = {}
  for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) out[name] = value
  reply.raw.writeHead(200, out)
  reply.hijack()
  sink.open(reply.raw)
  return reply
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
  const requester = ownerOf(request.principal)
  const session = app.streamHub.get(point.streamId)
  if (session !== undefined) {
    if (!mayAccess(session.owner, requester) || (session.ended && point.afterSeq >= session.lastSeq) || !session.canReplayFrom(point.afterSeq)) {
      return reply.code(204).send()
    }
    return sendSse(request, reply, localReader(request, reply, session, point.afterSeq))
  }
  return await remoteReader(request, reply, point, requester)
}

/**
 * A stream produced by another instance, read from Redis. On shutdown the response just
 * ends (no `done`), so EventSource reconnects and resumes on another instance.
 */
async function remoteReader (request: FastifyRequest, reply: FastifyReply, point: ResumePoint, requester: string | undefined): Promise<FastifyReply> {
  const app = request.server
  const remote = app.redisStreams
  if (remote === null || !remote.healthy) return reply.code(204).send()
  const info = await remote.info(point.streamId).catch(() => undefined)
  if (info === undefined || !info.resumable || !mayAccess(info.owner, requester)) return reply.code(204).send()
  if (info.status === 'ended' && point.afterSeq >= info.lastSeq) return reply.code(204).send()
  // A lost stream (its producer died) is still resumed, to its end (issue 7): the reader
  // replays what the client missed, then `error` stream_lost, `usage`, `done`. Those
  // three come after lastSeq, so a client that already has them has nothing left.
  if (!info.alive && point.afterSeq > info.lastSeq) return reply.code(204).send()
  return followRemote(request, reply, point.streamId, point.afterSeq)
}

/**
 * Answers with a stream another instance produces, read from Redis after `afterSeq`
 * (native frames, or `framing`'s: the AI SDK's chat resume), until its `done`.
 */
export function followRemote (request: FastifyRequest, reply: FastifyReply, streamId: string, afterSeq: number,
  surface: { framing?: Framing, headers?: Readonly<Record<string, string>> } = {}): FastifyReply {
  const app = request.server
  const remote = app.redisStreams
  if (remote === null) return reply.code(204).send()
  const controller = new AbortController()
  reply.raw.once('close', function onResponseClose () {
    if (!reply.raw.writableFinished) controller.abort(new Error('client closed the stream'))
  })
  app.openResponses.track(reply.raw, () => controller.abort(new Error('shutting down')))
  const events = remote.read(streamId, afterSeq, controller.signal)
  return reply.code(200).headers(SSE_HEADERS).headers(surface.headers ?? {}).send(toEventStream(events, streamId, app.proxyConfig.heartbeatMs,
    (err) => reply.log.error({ err, streamId }, 'stream reader failed'), app.callEvents.heartbeatListener, surface.framing))
}
