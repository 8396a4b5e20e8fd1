// Token estimates for when Bedrock's own usage never arrived (the stream was cancelled,
// lost or cut before its metadata): Bedrock still bills what was sent and produced, so
// clients and budgets get an estimate, marked partial. Pure; the one place for the rule.
import type { RelayEvent, UsageData } from './events.js'

// About four characters per token for English text: the usual rule of thumb.
const CHARS_PER_TOKEN = 4

export function estimateTokens (chars: number): number {
  return Math.ceil(chars / CHARS_PER_TOKEN)
}

/** Characters of model output an event carries (text, reasoning text, tool input). */
export function outputCharsOf (event: RelayEvent): number {
  if (event.type === 'text') return event.data.text.length
  if (event.type === 'tool_input') return event.data.input.length
  if (event.type === 'reasoning' && 'text' in event.data) return event.data.text.length
  return 0
}

export function partialUsage (inputChars: number, outputChars: number): UsageData {
  const inputTokens = estimateTokens(inputChars)
  const outputTokens = estimateTokens(outputChars)
  return { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens, partial: true }
}
