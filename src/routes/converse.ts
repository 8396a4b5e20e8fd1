// POST /v1/converse: the same body, answered as one JSON document (Converse API).
// Upstream failures use the same codes and statuses as before a stream starts. `content`
// holds every block Bedrock returned (reasoning with its signature, toolUse, citations),
// ready to be sent back in the next turn's messages; `trace`, `performanceConfig` and
// `serviceTier` come as Bedrock answered them.
import { ConverseCommand } from '@aws-sdk/client-bedrock-runtime'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { toConverseCommandInput, toConverseInput } from '../bedrock/converse-input.js'
import { toJsonSafe, toUsage } from '../bedrock/relay-events.js'
import { attemptsOf, type StreamSummary } from '../bedrock/relay.js'
import { logLevelOf, toProxyError } from '../bedrock/upstream-errors.js'
import { ProxyError } from '../errors.js'
import { clientGone } from '../plugins/limits.js'
import { newStreamId } from '../streams/registry.js'
import { ConverseBody } from '../requests.js'
import { callContextOf } from './call-context.js'
import { ConverseResult, ErrorResponses } from './responses.js'

export async function converseRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.post('/converse', {
    config: { kind: 'generate' },
    schema: { summary: 'Answer a conversation as one JSON document (Converse API)', body: ConverseBody, response: { 200: ConverseResult, ...ErrorResponses } },
  }, async function converse (request, reply) {
    const callId = newStreamId()
    const input = toConverseInput(request.body, app.proxyConfig, callContextOf(request, callId))
    if (clientGone(reply)) return reply.hijack() // left while admission waited: no Bedrock call
    const controller = new AbortController()
    reply.raw.on('close', function onResponseClose () {
      if (!reply.raw.writableFinished) controller.abort(new Error('client closed the request'))
    })
    app.openResponses.track(reply.raw, () => controller.abort(new ProxyError('shutting_down')))
    const timeoutMs = app.proxyConfig.converseTimeoutMs
    const timer = setTimeout(() => controller.abort(new ProxyError('upstream_timeout', {
      cause: new Error(`no answer from Bedrock within ${timeoutMs} ms`),
    })), timeoutMs)
    const startedAt = Date.now()
    try {
      const out = await app.bedrockClient.send(new ConverseCommand(toConverseCommandInput(input)), { abortSignal: controller.signal })
      const content = out.output?.message?.content ?? []
      const usage = toUsage(out.usage)
      const summary: StreamSummary = {
        streamId: callId,
        model: input.modelId,
        outcome: 'completed',
        stopReason: out.stopReason ?? 'unknown',
        inputTokens: usage.inputTokens,
        outputTokens: usage.outputTokens,
        ...(usage.cacheReadInputTokens !== undefined ? { cacheReadInputTokens: usage.cacheReadInputTokens } : {}),
        ...(usage.cacheWriteInputTokens !== undefined ? { cacheWriteInputTokens: usage.cacheWriteInputTokens } : {}),
        ...(out.$metadata.attempts !== undefined ? { upstreamAttempts: out.$metadata.attempts } : {}),
        durationMs: Date.now() - startedAt,
        document: true,
      }
      request.log.info({ call: summary }, 'converse finished')
      app.callEvents.finished(request, summary)
      return {
        // A cited answer's text sits in its citationsContent blocks.
        text: content.map(block => block.text ?? block.citationsContent?.content?.map(c => c.text ?? '').join('') ?? '').join(''),
        content: toJsonSafe(content) as unknown[],
        stopReason: out.stopReason ?? 'unknown',
        usage,
        metrics: { latencyMs: out.metrics?.latencyMs ?? 0 },
        ...(out.trace !== undefined ? { trace: toJsonSafe(out.trace) } : {}),
        ...(out.performanceConfig?.latency !== undefined ? { performanceConfig: { latency: out.performanceConfig.latency } } : {}),
        ...(out.serviceTier?.type !== undefined ? { serviceTier: { type: out.serviceTier.type } } : {}),
      }
    } catch (err) {
      const failure = toProxyError(err, controller.signal)
      const attempts = attemptsOf(err)
      const summary: StreamSummary = { streamId: callId, model: input.modelId, outcome: controller.signal.aborted && !(controller.signal.reason instanceof ProxyError) ? 'client_closed' : 'error', errorCode: failure.code, ...(attempts !== undefined ? { upstreamAttempts: attempts } : {}), durationMs: Date.now() - startedAt, document: true }
      // The same level as a stream's failure (upstream_credentials, upstream_error: error).
      request.log[logLevelOf(failure)]({ call: summary, err }, 'converse failed')
      app.callEvents.finished(request, summary)
      throw failure
    } finally {
      clearTimeout(timer)
    }
  })
}
