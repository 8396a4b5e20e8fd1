// The SSE event contract shared by every streaming route. The README documents it
// ("Events"), the OpenAPI document publishes it (EVENT_SCHEMAS), clients and tests rely
// on it. Each variant becomes one SSE frame whose `event:` is `type` and whose `data:` is
// one line of JSON of `data`. Each data shape is defined once, as a schema, and its
// TypeScript type is derived from it.
import { Type, type Static, type TSchema } from 'typebox'
import { ERROR_CATALOGUE, type ErrorData } from './errors.js'

export type { ErrorData }

const index = Type.Integer({ minimum: 0, description: 'The content block this delta belongs to.' })

export const EVENT_SCHEMAS = {
  start: Type.Object({ streamId: Type.String(), model: Type.String() }, { description: 'Sent at once, before Bedrock is called.' }),
  text: Type.Object({ index, text: Type.String() }),
  reasoning: Type.Union([
    Type.Object({ index, text: Type.String() }),
    Type.Object({ index, signature: Type.String() }),
    Type.Object({ index, redacted: Type.String({ description: "Base64 of Bedrock's redactedContent bytes." }) }),
  ]),
  tool_use: Type.Object({ index, toolUseId: Type.String(), name: Type.String(), type: Type.Optional(Type.String({ description: 'Set for a tool Bedrock runs itself (`server_tool_use`).' })) }),
  tool_input: Type.Object({ index, input: Type.String({ description: 'A fragment of the tool input JSON text.' }) }),
  citation: Type.Object({
    index,
    title: Type.Optional(Type.String()),
    source: Type.Optional(Type.String()),
    sourceContent: Type.Optional(Type.Array(Type.Object({ text: Type.String() }))),
    location: Type.Optional(Type.Unknown({ description: 'Where in the document: documentChar, documentPage, documentChunk, web ...' })),
  }, { description: 'A citation of a document block the answer is grounded on (`citations: { enabled: true }`).' }),
  block_stop: Type.Object({ index }),
  delta: Type.Object({ index, kind: Type.String(), value: Type.Unknown() }, { description: 'A delta kind with no event of its own (toolResult, image, or newer than this proxy), and block starts other than tool use.' }),
  stop: Type.Object({ stopReason: Type.String() }),
  usage: Type.Object({
    inputTokens: Type.Integer(),
    outputTokens: Type.Integer(),
    totalTokens: Type.Integer(),
    cacheReadInputTokens: Type.Optional(Type.Integer()),
    cacheWriteInputTokens: Type.Optional(Type.Integer()),
    latencyMs: Type.Optional(Type.Integer()),
    trace: Type.Optional(Type.Unknown({ description: 'The guardrail trace (GUARDRAIL_TRACE), as Bedrock sent it.' })),
    performanceConfig: Type.Optional(Type.Object({ latency: Type.String() })),
    serviceTier: Type.Optional(Type.Object({ type: Type.String() })),
    partial: Type.Optional(Type.Literal(true, { description: "Bedrock's metadata never came (cancelled, lost): the counts are estimates from the text streamed so far." })),
  }),
  error: Type.Object({
    code: Type.Enum(Object.keys(ERROR_CATALOGUE)),
    message: Type.String(),
    retryable: Type.Boolean(),
    retryAfterMs: Type.Optional(Type.Integer()),
  }),
  done: Type.Object({
    resumable: Type.Optional(Type.Literal(false, { description: 'The replay buffer went past STREAM_BUFFER_MAX_BYTES: a reconnect cannot resume.' })),
  }, { description: 'Always the last event.' }),
} satisfies Record<string, TSchema>

export type StartData = Static<typeof EVENT_SCHEMAS.start>
export type TextData = Static<typeof EVENT_SCHEMAS.text>
export type ReasoningData = Static<typeof EVENT_SCHEMAS.reasoning>
export type ToolUseData = Static<typeof EVENT_SCHEMAS.tool_use>
export type ToolInputData = Static<typeof EVENT_SCHEMAS.tool_input>
export type CitationData = Static<typeof EVENT_SCHEMAS.citation>
export type BlockStopData = Static<typeof EVENT_SCHEMAS.block_stop>
export type DeltaData = Static<typeof EVENT_SCHEMAS.delta>
export type StopData = Static<typeof EVENT_SCHEMAS.stop>
export type UsageData = Static<typeof EVENT_SCHEMAS.usage>
export type DoneData = Static<typeof EVENT_SCHEMAS.done>

export type RelayEvent =
  | { type: 'start', data: StartData }
  | { type: 'text', data: TextData }
  | { type: 'reasoning', data: ReasoningData }
  | { type: 'tool_use', data: ToolUseData }
  | { type: 'tool_input', data: ToolInputData }
  | { type: 'citation', data: CitationData }
  | { type: 'block_stop', data: BlockStopData }
  | { type: 'delta', data: DeltaData }
  | { type: 'stop', data: StopData }
  | { type: 'usage', data: UsageData }
  | { type: 'error', data: ErrorData }
  | { type: 'done', data: DoneData }

export type RelayEventType = RelayEvent['type']

export const RELAY_EVENT_TYPES: readonly RelayEventType[] = [
  'start', 'text', 'reasoning', 'tool_use', 'tool_input', 'citation', 'delta', 'block_stop', 'stop', 'usage', 'error', 'done',
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
