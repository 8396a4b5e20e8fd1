// Upstream ConverseStream events -> relay events (src/events.ts). Pure: no I/O, no
// timers. Nothing is dropped: every delta kind Bedrock sends has an event, and kinds
// this version does not know pass through as `delta` events.
// See https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html
import type { ConverseStreamOutput, TokenUsage } from '@aws-sdk/client-bedrock-runtime'
import { ProxyError } from '../errors.js'
import type { RelayEvent, UsageData } from '../events.js'
import { outputCharsOf } from '../usage-estimate.js'

/** What the stream reported, for the stream's log line and for callers that account usage. */
export interface StreamTally {
  firstEventAt: number | undefined
  stopReason: string | undefined
  usage: UsageData | undefined
  /** Characters of text, reasoning and tool input relayed: the base of a partial usage estimate. */
  outputChars: number
  sawStop: boolean
  sawMetadata: boolean
}

/**
 * Maps one upstream event to relay events, handing each to `emit` (synchronously: no
 * generator per event on the hot path), and keeps the tally. `messageStop` and
 * `metadata` are recorded: a stream is complete only with both (checkComplete).
 */
export function mapUpstreamEvent (event: ConverseStreamOutput, tally: StreamTally, emit: (event: RelayEvent) => void): void {
  tally.firstEventAt ??= Date.now()
  if (event.messageStop !== undefined) {
    tally.sawStop = true
    tally.stopReason = event.messageStop.stopReason ?? 'unknown'
    emit({ type: 'stop', data: { stopReason: tally.stopReason } })
  } else if (event.metadata !== undefined) {
    tally.sawMetadata = true
    const { usage, metrics, trace } = event.metadata
    tally.usage = { ...toUsage(usage), latencyMs: metrics?.latencyMs ?? 0, ...(trace !== undefined ? { trace } : {}) }
    emit({ type: 'usage', data: tally.usage })
  } else {
    for (const relayed of mapContentEvent(event)) {
      tally.outputChars += outputCharsOf(relayed)
      emit(relayed)
    }
  }
}

/**
 * On HTTP/2 the SDK can end the iteration silently when the connection drops
 * (FIELD-NOTES 4): a stream that ended without both `messageStop` and `metadata` is
 * `upstream_truncated`, never a completion.
 */
export function checkComplete (tally: StreamTally): void {
  if (!tally.sawStop || !tally.sawMetadata) {
    throw new ProxyError('upstream_truncated', {
      cause: new Error(`stream ended without ${tally.sawStop ? 'metadata' : 'messageStop'}`),
    })
  }
}

export function newTally (): StreamTally {
  return { firstEventAt: undefined, stopReason: undefined, usage: undefined, outputChars: 0, sawStop: false, sawMetadata: false }
}

function * mapContentEvent (event: ConverseStreamOutput): Generator<RelayEvent> {
  if (event.messageStart !== undefined) return // the role is always assistant; `start` was already sent
  if (event.contentBlockStart !== undefined) {
    const index = event.contentBlockStart.contentBlockIndex ?? 0
    const start = event.contentBlockStart.start
    if (start?.toolUse !== undefined) {
      yield { type: 'tool_use', data: { index, toolUseId: start.toolUse.toolUseId ?? '', name: start.toolUse.name ?? '' } }
    } else if (start !== undefined) {
      yield { type: 'delta', data: { index, kind: 'blockStart', value: toJsonSafe(start) } }
    }
    return
  }
  if (event.contentBlockDelta !== undefined) {
    const index = event.contentBlockDelta.contentBlockIndex ?? 0
    const delta = event.contentBlockDelta.delta
    if (delta === undefined) return
    if (delta.text !== undefined) {
      yield { type: 'text', data: { index, text: delta.text } }
    } else if (delta.reasoningContent !== undefined) {
      const r = delta.reasoningContent
      if (r.text !== undefined) yield { type: 'reasoning', data: { index, text: r.text } }
      else if (r.signature !== undefined) yield { type: 'reasoning', data: { index, signature: r.signature } }
      else if (r.redactedContent !== undefined) yield { type: 'reasoning', data: { index, redacted: toBase64(r.redactedContent) } }
    } else if (delta.toolUse !== undefined) {
      yield { type: 'tool_input', data: { index, input: delta.toolUse.input ?? '' } }
    } else {
      // citation, toolResult, image and members newer than this SDK: pass them on as they came.
      const [kind, value] = Object.entries(delta)[0] ?? ['unknown', null]
      yield { type: 'delta', data: { index, kind: kind === '$unknown' ? 'unknown' : kind, value: toJsonSafe(value) } }
    }
    return
  }
  if (event.contentBlockStop !== undefined) {
    yield { type: 'block_stop', data: { index: event.contentBlockStop.contentBlockIndex ?? 0 } }
  }
  // Exception members are thrown by the SDK's deserializer before they reach us.
}

export function toUsage (usage: TokenUsage | undefined): Omit<UsageData, 'latencyMs'> {
  return {
    inputTokens: usage?.inputTokens ?? 0,
    outputTokens: usage?.outputTokens ?? 0,
    totalTokens: usage?.totalTokens ?? 0,
    ...(usage?.cacheReadInputTokens !== undefined ? { cacheReadInputTokens: usage.cacheReadInputTokens } : {}),
    ...(usage?.cacheWriteInputTokens !== undefined ? { cacheWriteInputTokens: usage.cacheWriteInputTokens } : {}),
  }
}

function toBase64 (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}

/** SDK values may hold Uint8Array blobs, which JSON.stringify would turn into index maps. */
export function toJsonSafe (value: unknown): unknown {
  if (value instanceof Uint8Array) return toBase64(value)
  if (Array.isArray(value)) return value.map(toJsonSafe)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJsonSafe(v)]))
  }
  return value
}
