// GET and POST /v1/converse-stream: the native SSE surface. The handler reads as the
// pipeline: validate -> Converse input -> upstream call -> relay events -> replay buffer
// -> SSE frames -> the socket, with backpressure. Once validation passes the answer is
// committed to 200 text/event-stream and `start` is flushed before Bedrock is called.
// A request that carries Last-Event-ID resumes its stream instead: Bedrock is not
// called again (see resumeOrNoContent).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { toConverseInput, type ConverseRequest } from '../bedrock/converse-input.js'
import { relayConverseStream, type StreamSummary } from '../bedrock/relay.js'
import { ProxyError } from '../errors.js'
import { clientGone } from '../plugins/limits.js'
import { LiveStream } from '../streams/live-stream.js'
import { newStreamId } from '../streams/registry.js'
import { lastEventIdHeader, openReader, resumePoint } from '../streams/resume.js'
import type { AppContext } from '../app.js'
import { converseBodySchema, converseQuerySchema } from './schemas.js'
import { sseReply } from './sse-reply.js'

type StreamQuery = ConverseRequest & { lastEventId?: string }

export async function converseStreamRoutes (app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get<{ Querystring: StreamQuery }>('/v1/converse-stream', {
    schema: { querystring: converseQuerySchema },
  }, async function streamFromQuery (request, reply) {
    const { lastEventId, ...body } = request.query
    const resumeFrom = lastEventIdHeader(request.headers) ?? lastEventId
    if (resumeFrom !== undefined) return resumeOrNoContent(ctx, request, reply, resumeFrom)
    return startStream(ctx, request, reply, body)
  })

  app.post<{ Body: ConverseRequest }>('/v1/converse-stream', {
    schema: { body: converseBodySchema },
  }, async function streamFromBody (request, reply) {
    const resumeFrom = lastEventIdHeader(request.headers)
    if (resumeFrom !== undefined) return resumeOrNoContent(ctx, request, reply, resumeFrom)
    return startStream(ctx, request, reply, request.body)
  })
}

/** Authenticated principals own their streams; anonymous streams (loopback, no keys) are open. */
export function ownerOf (request: FastifyRequest): string | undefined {
  const principal = request.principal
  return principal === null || principal === undefined || principal.via === 'anonymous' ? undefined : principal.id
}

/**
 * EventSource reconnects by itself, even after a clean end, sending the last id it saw
 * (FIELD-NOTES 14). Replay what was missed and follow live; when there is nothing left
 * (fully delivered, unknown, expired) answer 204, which makes EventSource stop for good.
 * Never re-run the prompt: that would bill a second generation.
 */
export async function resumeOrNoContent (ctx: AppContext, request: FastifyRequest, reply: FastifyReply, lastEventId: string): Promise<FastifyReply> {
  const point = resumePoint(lastEventId)
  if (point === 'invalid') throw new ProxyError('bad_request', { message: 'Last-Event-ID is not an id this server issued.' })
  if (point === undefined) return reply.code(204).send()
  const local = ctx.hub.get(point.streamId) !== undefined
  const handle = sseReply(ctx, reply, point.streamId, !local)
  const reader = await openReader(ctx.hub, ctx.remote, point, handle.signal, ownerOf(request))
  if (reader === undefined) return reply.code(204).send()
  return handle.send(reader.events)
}

async function startStream (ctx: AppContext, request: FastifyRequest, reply: FastifyReply, body: ConverseRequest): Promise<FastifyReply> {
  const { config } = ctx
  const input = toConverseInput(body, config) // throws 4xx before anything is streamed
  // Admission may have waited on Redis: a client that left meanwhile gets no Bedrock call (issue 7).
  if (clientGone(reply)) return reply.hijack()
  const streamId = newStreamId()
  const log = request.log.child({ streamId })
  const live = new LiveStream(streamId, input.modelId, config.streamBufferMaxBytes, ownerOf(request))
  const mirror = ctx.remote?.healthy === true ? await ctx.remote.createMirror(live) : undefined

  // One controller per upstream call: aborted by the hub (grace period over, DELETE,
  // shutdown) and by our own timers; the client leaving only detaches its reader.
  const controller = new AbortController()
  const events = relayConverseStream({
    client: ctx.bedrock,
    input,
    streamId,
    controller,
    firstEventTimeoutMs: config.upstreamFirstEventTimeoutMs,
    idleTimeoutMs: config.upstreamIdleTimeoutMs,
    log,
    onFinish (summary: StreamSummary) {
      log.info({ stream: { ...summary, resumable: live.resumable, shared: mirror !== undefined } }, 'stream finished')
      for (const hook of ctx.callFinished) hook(request, summary)
    },
  })
  const handle = sseReply(ctx, reply, streamId, false)
  const reader = live.read(0, handle.signal) // attach before producing: the grace clock must not start
  // The call's slot and budget reservation stay taken until the call ends, grace included,
  // not until this response closes (issue 7): onFinish hands them back.
  request.admission?.holdUntilCallEnds()
  ctx.hub.start(live, controller, events, mirror)
  return handle.send(reader)
}
