// GET and POST /v1/converse-stream: the native SSE surface. The handler reads as the
// pipeline: validate -> Converse input -> upstream call -> relay events -> SSE frames ->
// the socket, with backpressure. Once validation passes the answer is committed to
// 200 text/event-stream and `start` is flushed before Bedrock is called.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { toConverseInput, type ConverseRequest } from '../bedrock/converse-input.js'
import { relayConverseStream, type StreamSummary } from '../bedrock/relay.js'
import { SSE_HEADERS, toEventStream } from '../sse/event-stream.js'
import { newStreamId } from '../streams.js'
import type { AppContext } from '../app.js'
import { converseBodySchema, converseQuerySchema } from './schemas.js'

export async function converseStreamRoutes (app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get<{ Querystring: ConverseRequest }>('/v1/converse-stream', {
    schema: { querystring: converseQuerySchema },
  }, async function streamFromQuery (request, reply) {
    // EventSource reconnects by itself, even after a clean end, sending the last id it
    // saw (FIELD-NOTES 14). Re-running the query would bill a second generation, and
    // this instance keeps no replay buffer: 204 is what makes EventSource stop.
    if (request.headers['last-event-id'] !== undefined) return reply.code(204).send()
    return startStream(ctx, request, reply, request.query)
  })

  app.post<{ Body: ConverseRequest }>('/v1/converse-stream', {
    schema: { body: converseBodySchema },
  }, async function streamFromBody (request, reply) {
    return startStream(ctx, request, reply, request.body)
  })
}

function startStream (ctx: AppContext, request: FastifyRequest, reply: FastifyReply, body: ConverseRequest): FastifyReply {
  const { config } = ctx
  const input = toConverseInput(body, config) // throws 4xx before anything is streamed
  const streamId = newStreamId()
  const controller = ctx.streams.open(streamId, reply.raw)
  const log = request.log.child({ streamId })

  // The response's close, not request.signal: on POST that fires as soon as the body
  // is read (FIELD-NOTES 10). writableFinished tells a finished stream from a client
  // that left; only the latter cancels Bedrock (FIELD-NOTES 5: abortSignal only).
  reply.raw.on('close', function onResponseClose () {
    if (!reply.raw.writableFinished) controller.abort(new Error('client closed the stream'))
  })

  const events = relayConverseStream({
    client: ctx.bedrock,
    input,
    streamId,
    controller,
    firstEventTimeoutMs: config.upstreamFirstEventTimeoutMs,
    idleTimeoutMs: config.upstreamIdleTimeoutMs,
    log,
    onFinish (summary: StreamSummary) {
      log.info({ stream: summary }, 'stream finished')
    },
  })
  return reply
    .code(200)
    .headers(SSE_HEADERS)
    .send(toEventStream(events, streamId, config.heartbeatMs))
}
