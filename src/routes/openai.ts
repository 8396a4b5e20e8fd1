// The OpenAI-compatible surface: POST /v1/chat/completions (streaming or not) and GET
// /v1/models, so a front end or script written for OpenAI's API streams from Bedrock by
// changing only its base URL. Not a second relay: the request becomes the native
// ConverseRequest (openai/to-converse.ts) before admission, and runs on the one pipeline
// (start-stream.ts, collect-answer.ts); only the framing (openai/chunks.ts) and the
// error shape (openai/errors.ts) are OpenAI's.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { finishReasonOf, openAIFraming, openAIUsage } from '../openai/chunks.js'
import { ChatCompletion, ChatCompletionBody, ChatCompletionStream, ModelList, OpenAIErrorResponses, type ChatCompletionRequest, type ChatCompletionResult } from '../openai/schemas.js'
import { chatToConverse } from '../openai/to-converse.js'
import { collectAnswer, type CollectedAnswer } from './collect-answer.js'
import { startStream } from './start-stream.js'

export async function openAIRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const config = app.proxyConfig

  app.post('/chat/completions', {
    config: {
      kind: 'generate',
      dialect: 'openai',
      toConverse: (request: FastifyRequest) => chatToConverse(request.body as ChatCompletionRequest, config.modelAliases),
    },
    schema: {
      summary: 'OpenAI-compatible chat completion, streaming (`stream: true`) or not',
      body: ChatCompletionBody,
      response: { 200: { ...ChatCompletion, description: `A chat.completion; with \`stream: true\`, ${ChatCompletionStream.description}` }, ...OpenAIErrorResponses },
    },
  }, async function chatCompletions (request, reply) {
    const body = request.body
    if (body.stream === true) {
      return startStream(request, reply, {
        framing: openAIFraming({ includeUsage: body.stream_options?.include_usage === true }),
        headers: {},
        resume: 'none', // OpenAI clients never reconnect: a client that leaves ends the call
        commit: 'first-output', // a call refused before any token answers its status (429, 503...), which the client retries
      })
    }
    const collected = await collectAnswer(request, reply)
    if (collected === undefined) return reply.hijack()
    return toChatCompletion(collected)
  })

  app.get('/models', {
    config: { kind: 'read', dialect: 'openai' },
    schema: { summary: 'The models this key may use (OpenAI list shape)', response: { 200: ModelList, ...OpenAIErrorResponses } },
  }, async function listModels (request) {
    const mayUse = (id: string): boolean => request.principal?.models === undefined || request.principal.models.has(id)
    const models = [config.defaultModelId, ...[...config.allowedModels].filter(id => id !== config.defaultModelId)].filter(mayUse)
    const aliases = [...config.modelAliases].filter(([, id]) => mayUse(id))
    return {
      object: 'list' as const,
      data: [
        ...models.map(id => ({ id, object: 'model' as const, created: 0, owned_by: 'bedrock' })),
        ...aliases.map(([alias, id]) => ({ id: alias, object: 'model' as const, created: 0, owned_by: `alias:${id}` })),
      ],
    }
  })
}

function toChatCompletion ({ answer, callId, model }: CollectedAnswer): ChatCompletionResult {
  const reasoning = answer.reasoningText
  const toolCalls = answer.toolCalls.map(call =>
    ({ id: call.toolUseId, type: 'function' as const, function: { name: call.name, arguments: call.input === '' ? '{}' : call.input } }))
  return {
    id: `chatcmpl-${callId}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{
      index: 0,
      message: {
        role: 'assistant',
        // OpenAI's shape: no text beside tool calls is null, not ''.
        content: answer.text === '' && toolCalls.length > 0 ? null : answer.text,
        ...(reasoning !== undefined ? { reasoning_content: reasoning } : {}),
        ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        refusal: null,
      },
      logprobs: null,
      finish_reason: finishReasonOf(answer.stopReason ?? 'end_turn'),
    }],
    usage: openAIUsage(answer.usage ?? { inputTokens: 0, outputTokens: 0, totalTokens: 0 }),
  }
}
