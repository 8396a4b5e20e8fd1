// The one streaming pipeline every generating surface shares (the native SSE routes,
// OpenAI's chat completions, the AI SDK's UI chat): the admitted request as a native
// ConverseRequest -> the Converse input (the operator's rules) -> a StreamSession that
// owns the upstream call, its cancellation, its readers and its replay buffer -> the
// relay -> frames written in the surface's own framing. A surface says only how it
// frames events and whether its clients can resume.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { StreamSummary } from '../bedrock/relay.js'
import { ProxyError } from '../errors.js'
import { clientGone } from '../plugins/limits.js'
import { ownerOf } from '../security/principal.js'
import { nativeFraming, type FramingFactory } from '../sse/framing.js'
import { newStreamId } from '../streams/registry.js'
import { StreamSession } from '../streams/session.js'
import { CallLog } from './call-log.js'
import { localReader, sendSse } from './sse-reply.js'
import { callInput, runCall } from './upstream-call.js'

export interface StreamSurface {
  framing: FramingFactory
  headers: Readonly<Record<string, string>>
  /**
   * `yes`: resumable here and, with Redis, on any instance (by Last-Event-ID, or by alias);
   * `none`: nobody can resume, so no event is kept and the call stops when the reader leaves.
   */
  resume: 'yes' | 'none'
  /** Another name the client knows the stream by, for its reconnect (hub.byAlias). */
  alias?: string
  /**
   * `at-once`: 200 and the first frame before Bedrock is called (a refusal by Bedrock is an
   * `error` event). `first-output`: wait for Bedrock's first event, so a call refused
   * before any token (throttled, unavailable, rejected) answers its HTTP status, which
   * is what OpenAI clients retry on.
   */
  commit: 'at-once' | 'first-output'
}

export const NATIVE_SURFACE: StreamSurface = {
  framing: nativeFraming,
  headers: {},
  resume: 'yes',
  commit: 'at-once',
}

/** Runs the admitted request as a stream and answers it in `surface`'s framing. */
export async function startStream (request: FastifyRequest, reply: FastifyReply, surface: StreamSurface): Promise<FastifyReply> {
  const app = request.server
  const config = app.proxyConfig
  const streamId = newStreamId()
  const input = callInput(request, streamId) // throws 4xx before anything is streamed
  // Admission may have waited on Redis: a client that left meanwhile gets no Bedrock call (issue 7).
  if (clientGone(reply)) return reply.hijack()
  const log = new CallLog(request.log, 'streamId', streamId)
  const owner = ownerOf(request.principal)
  const remote = app.redisStreams
  const mirror = surface.resume === 'yes' && remote?.healthy === true
    ? await remote.createMirror({ streamId, model: input.modelId, owner, alias: surface.alias })
    : undefined
  const session = new StreamSession({
    streamId,
    model: input.modelId,
    owner,
    maxBytes: surface.resume === 'none' ? 0 : config.streamBufferMaxBytes,
    mirror,
    framing: surface.framing,
  })
  // Attach before producing: the grace clock must not start with nobody to wait for.
  const sink = localReader(request, reply, session, 0)
  // The call's slot and budget reservation stay taken until the call ends, grace included,
  // not until this response closes (issue 7): onFinish hands them back.
  request.admission?.holdUntilCallEnds()
  app.streamHub.start(session, () => runCall(request, {
    input,
    streamId,
    controller: session.controller,
    log,
    emit: session.emit,
    waitForRoom: session.waitForRoom,
    onFinish (summary: StreamSummary) {
      log.info({ stream: { ...summary, resumable: session.resumable, shared: mirror !== undefined } }, 'stream finished')
      app.callEvents.finished(request, summary)
    },
  }), surface.alias)
  if (surface.commit === 'first-output') {
    const first = await session.firstOutput()
    if (first.type === 'error') {
      sink.destroy()
      throw ProxyError.fromEventData(first.data)
    }
    if (clientGone(reply)) return reply.hijack()
  }
  return sendSse(request, reply, sink, surface.headers)
}
