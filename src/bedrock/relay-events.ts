// Upstream ConverseStream events -> relay events (src/events.ts). Pure: no I/O, no
// timers. Nothing is dropped: every delta kind Bedrock sends has an event, and kinds
// this version does not know pass through as `delta` events.
// See https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html
import type { ContentBlockDelta, ConverseStreamMetadataEvent, ConverseStreamOutput, TokenUsage } from '@aws-sdk/client-bedrock-runtime'
import { ProxyError } from '../errors.js'
import type { RelayEvent, UsageData } from '../events.js'

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
 * generator or array per event on the hot path), and keeps the tally. `messageStop` and
 * `metadata` are recorded: a stream is complete only with both (checkComplete).
 */
export function mapUpstreamEvent (event: ConverseStreamOutput, tally: StreamTally, emit: (event: RelayEvent) => void): void {
  tally.firstEventAt ??= Date.now()
  if (event.contentBlockDelta !== undefined) {
    // The common case first: one delta per token.
    const index = event.contentBlockDelta.contentBlockIndex ?? 0
    const delta = event.contentBlockDelta.delta
    if (delta !== undefined) mapDelta(index, delta, tally, emit)
  } else if (event.contentBlockStart !== undefined) {
    const index = event.contentBlockStart.contentBlockIndex ?? 0
    const start = event.contentBlockStart.start
    if (start?.toolUse !== undefined) {
      const { toolUseId, name, type } = start.toolUse
      emit({ type: 'tool_use', data: { index, toolUseId: toolUseId ?? '', name: name ?? '', ...(type !== undefined ? { type } : {}) } })
    } else if (start !== undefined) {
      emit({ type: 'delta', data: { index, kind: 'blockStart', value: toJsonSafe(start) } })
    }
  } else if (event.contentBlockStop !== undefined) {
    emit({ type: 'block_stop', data: { index: event.contentBlockStop.contentBlockIndex ?? 0 } })
  } else if (event.messageStop !== undefined) {
    tally.sawStop = true
    tally.stopReason = event.messageStop.stopReason ?? 'unknown'
    emit({ type: 'stop', data: { stopReason: tally.stopReason } })
  } else if (event.metadata !== undefined) {
    tally.sawMetadata = true
    tally.usage = toMetadataUsage(event.metadata)
    emit({ type: 'usage', data: tally.usage })
  }
  // messageStart: the role is always assistant, and `start` was already sent. Exception
  // members are thrown by the SDK's deserializer before they reach us.
}

function mapDelta (index: number, delta: ContentBlockDelta, tally: StreamTally, emit: (event: RelayEvent) => void): void {
  if (delta.text !== undefined) {
    tally.outputChars += delta.text.length
    emit({ type: 'text', data: { index, text: delta.text } })
  } else if (delta.reasoningContent !== undefined) {
    const r = delta.reasoningContent
    if (r.text !== undefined) {
      tally.outputChars += r.text.length
      emit({ type: 'reasoning', data: { index, text: r.text } })
    } else if (r.signature !== undefined) {
      emit({ type: 'reasoning', data: { index, signature: r.signature } })
    } else if (r.redactedContent !== undefined) {
      emit({ type: 'reasoning', data: { index, redacted: blobBase64(r.redactedContent) } })
    }
  } else if (delta.toolUse !== undefined) {
    const input = delta.toolUse.input ?? ''
    tally.outputChars += input.length
    emit({ type: 'tool_input', data: { index, input } })
  } else if (delta.citation !== undefined) {
    emit({ type: 'citation', data: { index, ...(toJsonSafe(delta.citation) as Record<string, unknown>) } })
  } else {
    // toolResult, image and members newer than this SDK: pass them on as they came. The
    // SDK's reader wraps an unknown member as `$unknown: [name, value]`; the stream's own
    // decoder (upstream-stream.ts) gives it as it came. Either way it goes out by its name.
    let [kind, value] = Object.entries(delta)[0] ?? ['unknown', null]
    if (kind === '$unknown' && Array.isArray(value) && typeof value[0] === 'string') [kind, value] = value as [string, unknown]
    emit({ type: 'delta', data: { index, kind, value: toJsonSafe(value) } })
  }
}

/** Bedrock's metadata event: usage, latency, and the extras (guardrail trace, latency mode, service tier). */
function toMetadataUsage (metadata: ConverseStreamMetadataEvent): UsageData {
  const { usage, metrics, trace, performanceConfig, serviceTier } = metadata
  return {
    ...toUsage(usage),
    latencyMs: metrics?.latencyMs ?? 0,
    ...(trace !== undefined ? { trace: toJsonSafe(trace) } : {}),
    ...(performanceConfig?.latency !== undefined ? { performanceConfig: { latency: performanceConfig.latency } } : {}),
    ...(serviceTier?.type !== undefined ? { serviceTier: { type: serviceTier.type } } : {}),
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

export function toUsage (usage: TokenUsage | undefined): Omit<UsageData, 'latencyMs'> {
  return {
    inputTokens: usage?.inputTokens ?? 0,
    outputTokens: usage?.outputTokens ?? 0,
    totalTokens: usage?.totalTokens ?? 0,
    ...(usage?.cacheReadInputTokens !== undefined ? { cacheReadInputTokens: usage.cacheReadInputTokens } : {}),
    ...(usage?.cacheWriteInputTokens !== undefined ? { cacheWriteInputTokens: usage.cacheWriteInputTokens } : {}),
  }
}

/**
 * A blob as base64. The SDK's reader gives blobs as bytes; the stream's own decoder
 * (upstream-stream.ts) keeps the base64 text Bedrock sent, which is already the answer.
 */
function blobBase64 (blob: Uint8Array | string): string {
  return typeof blob === 'string' ? blob : toBase64(blob)
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
