// POST /v1/converse: the same body as /v1/converse-stream, answered as one JSON document
// in the shape of Bedrock's Converse API. Not a call of its own: the one pipeline, its
// events gathered (collect-answer.ts), so it has the stream's timeouts, cancellation and
// accounting. `content` holds every block Bedrock sent (reasoning with its signature,
// toolUse with its input parsed, a cited answer as citationsContent), ready to be sent
// back in the next turn's messages; `trace`, `performanceConfig` and `serviceTier` come
// as Bedrock reported them. Failures answer the same codes and statuses as refusals.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import type { Static } from 'typebox'
import type { Answer } from '../bedrock/answer.js'
import { ConverseBody } from '../requests.js'
import { collectAnswer } from './collect-answer.js'
import { ConverseResult, ErrorResponses } from './responses.js'

export async function converseRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.post('/converse', {
    config: { kind: 'generate' },
    schema: { summary: 'Answer a conversation as one JSON document (Converse API shape)', body: ConverseBody, response: { 200: ConverseResult, ...ErrorResponses } },
  }, async function converse (request, reply) {
    const collected = await collectAnswer(request, reply)
    if (collected === undefined) return reply.hijack() // left while admission waited: no Bedrock call
    return toConverseResult(collected.answer)
  })
}

function toConverseResult (answer: Answer): Static<typeof ConverseResult> {
  const { latencyMs, trace, performanceConfig, serviceTier, partial: _partial, ...usage } = answer.usage ?? { inputTokens: 0, outputTokens: 0, totalTokens: 0 }
  return {
    text: answer.text,
    content: answer.content(),
    stopReason: answer.stopReason ?? 'unknown',
    usage,
    metrics: { latencyMs: latencyMs ?? 0 },
    ...(trace !== undefined ? { trace } : {}),
    ...(performanceConfig !== undefined ? { performanceConfig } : {}),
    ...(serviceTier !== undefined ? { serviceTier } : {}),
  }
}
