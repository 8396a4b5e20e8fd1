// The last events of a stream whose producer is gone: they still tell the truth
// (`error`, `usage` with what is known marked partial, `done`) instead of a hang.
import type { ProxyError } from '../errors.js'
import type { RelayEvent, UsageData } from '../events.js'
import { outputCharsOf, partialUsage } from '../usage-estimate.js'

/** Usage as far as the events show it: Bedrock's own when it came, else an estimate from the output. */
export function estimateFromEvents (events: RelayEvent[]): UsageData {
  let outputChars = 0
  for (const event of events) {
    if (event.type === 'usage') return event.data
    outputChars += outputCharsOf(event)
  }
  return partialUsage(0, outputChars)
}

export function lostEvents (error: ProxyError, usage: UsageData): RelayEvent[] {
  return [
    { type: 'error', data: error.toEventData() },
    { type: 'usage', data: usage },
    { type: 'done', data: {} },
  ]
}
