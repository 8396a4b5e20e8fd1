// The SSE event contract shared by every streaming route. The README documents it
// ("Events"); clients and tests rely on it. Each variant becomes one SSE frame whose
// `event:` is `type` and whose `data:` is one line of JSON of `data`.
import type { ErrorData } from './errors.js'

export type { ErrorData }

export interface StartData { streamId: string, model: string }
export interface TextData { index: number, text: string }
export type ReasoningData =
  | { index: number, text: string }
  | { index: number, signature: string }
  | { index: number, redacted: string } // base64 of Bedrock's redactedContent bytes
export interface ToolUseData { index: number, toolUseId: string, name: string }
export interface ToolInputData { index: number, input: string } // a fragment of JSON text
export interface BlockStopData { index: number }
export interface StopData { stopReason: string }
export interface UsageData {
  inputTokens: number
  outputTokens: number
  totalTokens: number
  cacheReadInputTokens?: number
  cacheWriteInputTokens?: number
  latencyMs?: number
  trace?: unknown
  /** Bedrock's metadata never came (cancelled, lost): the counts are estimates from the text streamed so far. */
  partial?: true
}
/** A delta kind with no event of its own (citation, toolResult, image, or newer than this proxy). */
export interface DeltaData { index: number, kind: string, value: unknown }
/** `resumable: false` when the replay buffer went past its bound (STREAM_BUFFER_MAX_BYTES). */
export interface DoneData { resumable?: false }

export type RelayEvent =
  | { type: 'start', data: StartData }
  | { type: 'text', data: TextData }
  | { type: 'reasoning', data: ReasoningData }
  | { type: 'tool_use', data: ToolUseData }
  | { type: 'tool_input', data: ToolInputData }
  | { type: 'block_stop', data: BlockStopData }
  | { type: 'delta', data: DeltaData }
  | { type: 'stop', data: StopData }
  | { type: 'usage', data: UsageData }
  | { type: 'error', data: ErrorData }
  | { type: 'done', data: DoneData }

export type RelayEventType = RelayEvent['type']

export const RELAY_EVENT_TYPES: readonly RelayEventType[] = [
  'start', 'text', 'reasoning', 'tool_use', 'tool_input', 'delta', 'block_stop', 'stop', 'usage', 'error', 'done',
]

/**
 * A relay event as buffers and frames hold it: its position in its stream (the `id:` of
 * its SSE frame), its type, and its data serialised once, by JSON.stringify (one line:
 * CR and LF are escaped), for every frame and copy made of it.
 */
export interface SequencedEvent { seq: number, type: RelayEventType, json: string }

export function sequenced (seq: number, event: RelayEvent): SequencedEvent {
  return { seq, type: event.type, json: JSON.stringify(event.data) }
}
