// The last events of a stream whose producer is gone: they still tell the truth
// (`error`, `usage` with what is known marked partial, `done`) instead of a hang.
import type { ProxyError } from '../errors.js'
import type { RelayEvent, UsageData } from '../events.js'
import { errorData } from '../bedrock/relay.js'

const CHARS_PER_TOKEN = 4

/** Usage as far as the events show it: Bedrock's own when it came, else an estimate from the output. */
export function estimateFromEvents (events: RelayEvent[]): UsageData {
  const reported = events.find(e => e.type === 'usage')
  if (reported?.type === 'usage') return reported.data
  let chars = 0
  for (const e of events) {
    if (e.type === 'text') chars += e.data.text.length
    else if (e.type === 'tool_input') chars += e.data.input.length
    else if (e.type === 'reasoning' && 'text' in e.data) chars += e.data.text.length
  }
  const outputTokens = Math.ceil(chars / CHARS_PER_TOKEN)
  return { inputTokens: 0, outputTokens, totalTokens: outputTokens, partial: true }
}

export function lostEvents (error: ProxyError, usage: UsageData): RelayEvent[] {
  return [
    { type: 'error', data: errorData(error) },
    { type: 'usage', data: usage },
    { type: 'done', data: {} },
  ]
}
