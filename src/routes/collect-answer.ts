// The pipeline for surfaces that answer in one JSON document (POST /v1/converse, OpenAI's
// chat completion without `stream`): the same admitted request, Converse input, upstream
// ConverseStream call, relay, timeouts and accounting as a stream, gathered into an
// Answer instead of framed. The call is aborted when the client leaves (nothing can
// resume a document), on shutdown, or past the document's own deadline; a failure
// becomes the route's HTTP error, never a half answer.
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Answer } from '../bedrock/answer.js'
import type { ConverseInput } from '../bedrock/converse-input.js'
import type { StreamSummary } from '../bedrock/relay.js'
import { ProxyError } from '../errors.js'
import { clientGone } from '../plugins/limits.js'
import { newStreamId } from '../streams/registry.js'
import { CallLog } from './call-log.js'
import { callInput, runCall } from './upstream-call.js'

export interface CollectedAnswer { answer: Answer, callId: string, model: string }

/** Runs the admitted request to its end; undefined when the client left before Bedrock was called. */
export async function collectAnswer (request: FastifyRequest, reply: FastifyReply): Promise<CollectedAnswer | undefined> {
  const app = request.server
  const config = app.proxyConfig
  const callId = newStreamId()
  const input = checkedWhole(callInput(request, callId))
  if (clientGone(reply)) return undefined
  const log = new CallLog(request.log, 'callId', callId)
  const controller = new AbortController()
  // The response's close, not request.signal, which on POST fires once the body is read (FIELD-NOTES 10).
  reply.raw.once('close', function onResponseClose () {
    if (!reply.raw.writableFinished) controller.abort(new Error('client closed the request'))
  })
  app.openResponses.track(reply.raw, () => controller.abort(new ProxyError('shutting_down')))
  // A document has a deadline of its own: nothing reaches the client until it is whole.
  const deadlineMs = config.converseTimeoutMs
  const deadline = setTimeout(() => controller.abort(new ProxyError('upstream_timeout', {
    cause: new Error(`no whole answer from Bedrock within ${deadlineMs} ms`),
  })), deadlineMs)
  request.admission?.holdUntilCallEnds()
  const answer = new Answer()
  try {
    await runCall(request, {
      input,
      streamId: callId,
      controller,
      log,
      emit: answer.add,
      waitForRoom: () => undefined,
      onFinish (summary: StreamSummary) {
        const call: StreamSummary = { ...summary, document: true }
        log.info({ call }, 'call finished')
        app.callEvents.finished(request, call)
      },
    })
  } finally {
    clearTimeout(deadline)
  }
  if (answer.error !== undefined) {
    throw ProxyError.fromEventData(answer.error)
  }
  return { answer, callId, model: input.modelId }
}

/**
 * A guardrail checks a document before any of it is gathered: `async` processing would
 * let text through that its verdict then blocks, which only a stream can take back.
 */
function checkedWhole (input: ConverseInput): ConverseInput {
  const guardrail = input.guardrailConfig
  if (guardrail?.streamProcessingMode === undefined || guardrail.streamProcessingMode === 'sync') return input
  return { ...input, guardrailConfig: { ...guardrail, streamProcessingMode: 'sync' } }
}
