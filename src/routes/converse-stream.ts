// GET and POST /v1/converse-stream: the native SSE surface. The handler reads as the
// pipeline: validate -> Converse input -> upstream call -> relay events -> replay buffer
// -> SSE frames -> the socket, with backpressure. Once validation passes the answer is
// committed to 200 text/event-stream and `start` is flushed before Bedrock is called.
// A request that carries Last-Event-ID resumes its stream instead: Bedrock is not
// called again (see resumeOrNoContent).
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { toConverseInput } from '../bedrock/converse-input.js'
import { relayConverseStream, type StreamSummary } from '../bedrock/relay.js'
import { clientGone } from '../plugins/limits.js'
import { requestedLastEventId } from '../plugins/route-kind.js'
import { ownerOf } from '../security/principal.js'
import { SSE_HEADERS } from '../sse/event-stream.js'
import { StreamSession } from '../streams/session.js'
import { newStreamId } from '../streams/registry.js'
import { ConverseBody, ConverseQuery, type ConverseRequest } from '../requests.js'
import { callContextOf } from './call-context.js'
import { ErrorResponses, EventStream, NothingToResume } from './responses.js'
import { localReader, resumeOrNoContent } from './sse-reply.js'

// A resume never generates; everything else here calls Bedrock.
const config = { kind: 'generate', resumable: true } as const

const response = { 200: EventStream, 204: NothingToResume, ...ErrorResponses }

export async function converseStreamRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.get('/converse-stream', {
    config,
    exposeHeadRoute: false, // a HEAD would run the handler and call Bedrock for nothing
    schema: { summary: 'Stream an answer to a prompt (EventSource)', querystring: ConverseQuery, response },
  }, async function streamFromQuery (request, reply) {
    const resumeFrom = requestedLastEventId(request)
    if (resumeFrom !== undefined) return resumeOrNoContent(request, reply, resumeFrom)
    const { lastEventId: _ignored, ...body } = request.query
    return startStream(request, reply, body)
  })

  app.post('/converse-stream', {
    config,
    schema: { summary: 'Stream an answer to a conversation (fetch reader)', body: ConverseBody, response },
  }, async function streamFromBody (request, reply) {
    const resumeFrom = requestedLastEventId(request)
    if (resumeFrom !== undefined) return resumeOrNoContent(request, reply, resumeFrom)
    return startStream(request, reply, request.body)
  })
}

async function startStream (request: FastifyRequest, reply: FastifyReply, body: ConverseRequest): Promise<FastifyReply> {
  const app = request.server
  const config = app.proxyConfig
  const streamId = newStreamId()
  const input = toConverseInput(body, config, callContextOf(request, streamId)) // throws 4xx before anything is streamed
  // Admission may have waited on Redis: a client that left meanwhile gets no Bedrock call (issue 7).
  if (clientGone(reply)) return reply.hijack()
  const log = request.log.child({ streamId })
  const owner = ownerOf(request.principal)
  const remote = app.redisStreams
  const mirror = remote?.healthy === true ? await remote.createMirror({ streamId, model: input.modelId, owner }) : undefined
  const session = new StreamSession({ streamId, model: input.modelId, owner, maxBytes: config.streamBufferMaxBytes, mirror })
  // Attach before producing: the grace clock must not start with nobody to wait for.
  const sink = localReader(request, reply, session, 0)
  // The call's slot and budget reservation stay taken until the call ends, grace included,
  // not until this response closes (issue 7): onFinish hands them back.
  request.admission?.holdUntilCallEnds()
  app.streamHub.start(session, () => relayConverseStream({
    client: app.bedrockClient,
    input,
    streamId,
    controller: session.controller,
    firstEventTimeoutMs: config.upstreamFirstEventTimeoutMs,
    idleTimeoutMs: config.upstreamIdleTimeoutMs,
    log,
    emit: session.emit,
    waitForRoom: session.waitForRoom,
    onFinish (summary: StreamSummary) {
      log.info({ stream: { ...summary, resumable: session.resumable, shared: mirror !== undefined } }, 'stream finished')
      app.callEvents.finished(request, summary)
    },
  }))
  return reply.code(200).headers(SSE_HEADERS).send(sink)
}
