// The pipeline for surfaces that answer in one JSON document (OpenAI's non-streaming
// chat completion): the same admitted request, Converse input, upstream ConverseStream
// call, relay, timeouts and accounting as a stream, gathered into an Answer instead of
// framed. The call is aborted when the client leaves (nothing can resume a document) or
// on shutdown; a failure becomes the route's HTTP error.
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Answer } from '../bedrock/answer.js'
import { toConverseInput } from '../bedrock/converse-input.js'
import { relayConverseStream, type StreamSummary } from '../bedrock/relay.js'
import { ProxyError } from '../errors.js'
import { converseRequestOf } from '../plugins/converse-request.js'
import { clientGone } from '../plugins/limits.js'
import { newStreamId } from '../streams/registry.js'
import { callContextOf } from './call-context.js'

export interface CollectedAnswer { answer: Answer, callId: string, model: string }

/** Runs the admitted request to its end; undefined when the client left before Bedrock was called. */
export async function collectAnswer (request: FastifyRequest, reply: FastifyReply): Promise<CollectedAnswer | undefined> {
  const app = request.server
  const config = app.proxyConfig
  const callId = newStreamId()
  const input = toConverseInput(converseRequestOf(request), config, callContextOf(request, callId))
  if (clientGone(reply)) return undefined
  const log = request.log.child({ callId })
  const controller = new AbortController()
  // The response's close, not request.signal, which on POST fires once the body is read (FIELD-NOTES 10).
  reply.raw.once('close', function onResponseClose () {
    if (!reply.raw.writableFinished) controller.abort(new Error('client closed the request'))
  })
  app.openResponses.track(reply.raw, () => controller.abort(new ProxyError('shutting_down')))
  request.admission?.holdUntilCallEnds()
  const answer = new Answer()
  await relayConverseStream({
    client: app.bedrockClient,
    input,
    streamId: callId,
    controller,
    firstEventTimeoutMs: config.upstreamFirstEventTimeoutMs,
    idleTimeoutMs: config.upstreamIdleTimeoutMs,
    log,
    emit: answer.add,
    waitForRoom: () => undefined,
    onFinish (summary: StreamSummary) {
      const call: StreamSummary = { ...summary, document: true }
      log.info({ call }, 'call finished')
      app.callEvents.finished(request, call)
    },
  })
  if (answer.error !== undefined) {
    const { code, message, retryAfterMs } = answer.error
    throw new ProxyError(code, { message, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) })
  }
  return { answer, callId, model: input.modelId }
}
