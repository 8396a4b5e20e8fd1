// GET and POST /v1/converse-stream: the native SSE surface, on the shared pipeline
// (start-stream.ts): validate -> Converse input -> upstream call -> relay events ->
// replay buffer -> SSE frames -> the socket, with backpressure. Once validation passes the answer is
// committed to 200 text/event-stream and `start` is flushed before Bedrock is called.
// A request that carries Last-Event-ID resumes its stream instead: Bedrock is not
// called again (see resumeOrNoContent).
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { requestedLastEventId } from '../plugins/route-kind.js'
import { ConverseBody, ConverseQuery } from '../requests.js'
import { ErrorResponses, EventStream, NothingToResume } from './responses.js'
import { resumeOrNoContent } from './sse-reply.js'
import { NATIVE_SURFACE, startStream } from './start-stream.js'

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
    return startStream(request, reply, NATIVE_SURFACE)
  })

  app.post('/converse-stream', {
    config,
    schema: { summary: 'Stream an answer to a conversation (fetch reader)', body: ConverseBody, response },
  }, async function streamFromBody (request, reply) {
    const resumeFrom = requestedLastEventId(request)
    if (resumeFrom !== undefined) return resumeOrNoContent(request, reply, resumeFrom)
    return startStream(request, reply, NATIVE_SURFACE)
  })
}
