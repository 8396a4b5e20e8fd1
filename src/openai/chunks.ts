// Relay events -> OpenAI's streaming chat completion: one `data: {chat.completion.chunk}`
// line per delta, `data: [DONE]` at the end. Pure framing (sse/framing.ts), made per
// stream. Reasoning deltas travel as `reasoning_content`, as OpenAI-compatible servers
// for reasoning models write them; a failure after the first token is a
// `data: {"error": ...}` line, which the `openai` client raises as its APIError after the
// text so far, then the end.
import { ProxyError } from '../errors.js'
import type { UsageData } from '../events.js'
import { dataLine, type FramingFactory } from '../sse/framing.js'
import { toOpenAIErrorBody } from './errors.js'

const DONE = 'data: [DONE]\n\n'

/** Bedrock's stopReason -> OpenAI's finish_reason. */
export function finishReasonOf (stopReason: string): string {
  switch (stopReason) {
    case 'max_tokens': return 'length'
    case 'tool_use': return 'tool_calls'
    case 'content_filtered':
    case 'guardrail_intervened': return 'content_filter'
  }
  return 'stop'
}

/** OpenAI's usage object, cached input tokens included. */
export function openAIUsage (usage: UsageData): { prompt_tokens: number, completion_tokens: number, total_tokens: number, prompt_tokens_details: { cached_tokens: number } } {
  // Bedrock counts cached input apart from inputTokens; OpenAI's prompt_tokens include them.
  const cached = (usage.cacheReadInputTokens ?? 0) + (usage.cacheWriteInputTokens ?? 0)
  const prompt = usage.inputTokens + cached
  return {
    prompt_tokens: prompt,
    completion_tokens: usage.outputTokens,
    total_tokens: prompt + usage.outputTokens,
    prompt_tokens_details: { cached_tokens: usage.cacheReadInputTokens ?? 0 },
  }
}

export function openAIFraming (opts: { includeUsage: boolean }): FramingFactory {
  return ({ streamId, model }) => {
    const id = `chatcmpl-${streamId}`
    const created = Math.floor(Date.now() / 1000)
    const envelope = { id, object: 'chat.completion.chunk', created, model, system_fingerprint: null }
    // With include_usage every chunk carries `usage: null` and one last chunk the usage (OpenAI's contract).
    const usageField = opts.includeUsage ? { usage: null } : {}
    const chunk = (delta: Record<string, unknown>, finishReason: string | null = null): string =>
      dataLine({ ...envelope, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }], ...usageField })
    // Bedrock numbers content blocks; OpenAI numbers tool calls.
    const toolIndex = new Map<number, number>()
    return {
      frame (_seq, event) {
        switch (event.type) {
          case 'start': return chunk({ role: 'assistant', content: '' })
          case 'text': return chunk({ content: event.data.text })
          case 'reasoning': return 'text' in event.data ? chunk({ reasoning_content: event.data.text }) : ''
          case 'tool_use': {
            const i = toolIndex.size
            toolIndex.set(event.data.index, i)
            return chunk({ tool_calls: [{ index: i, id: event.data.toolUseId, type: 'function', function: { name: event.data.name, arguments: '' } }] })
          }
          case 'tool_input': return chunk({ tool_calls: [{ index: toolIndex.get(event.data.index) ?? 0, function: { arguments: event.data.input } }] })
          case 'stop': return chunk({}, finishReasonOf(event.data.stopReason))
          case 'usage':
            return opts.includeUsage
              ? dataLine({ ...envelope, choices: [], usage: openAIUsage(event.data) })
              : ''
          case 'error': return dataLine(toOpenAIErrorBody(ProxyError.fromEventData(event.data)))
          case 'done': return DONE
          default: return '' // block_stop, other deltas: nothing in OpenAI's chunk format
        }
      },
    }
  }
}
