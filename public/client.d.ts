// Types of public/client.js. The event shapes mirror src/events.ts (the README's "Events");
// test/client-types.test.ts fails to type-check when the two drift apart.

export interface StartData { streamId: string, model: string }
export interface TextData { index: number, text: string }
export type ReasoningData =
  | { index: number, text: string }
  | { index: number, signature: string }
  /** Base64 of Bedrock's redactedContent bytes. */
  | { index: number, redacted: string }
export interface ToolUseData {
  index: number
  toolUseId: string
  name: string
  /** Set for a tool Bedrock runs itself (`server_tool_use`). */
  type?: string
}
/** A fragment of the tool input JSON text: concatenate per index. */
export interface ToolInputData { index: number, input: string }
export interface BlockStopData { index: number }
/** A citation of a document block the answer is grounded on. */
export interface CitationData {
  index: number
  title?: string
  source?: string
  sourceContent?: Array<{ text: string }>
  /** Where in the document: documentChar, documentPage, documentChunk, web ... */
  location?: unknown
}
export interface DeltaData { index: number, kind: string, value: unknown }
export interface StopData { stopReason: string }
export interface UsageData {
  inputTokens: number
  outputTokens: number
  totalTokens: number
  cacheReadInputTokens?: number
  cacheWriteInputTokens?: number
  latencyMs?: number
  /** The guardrail trace (GUARDRAIL_TRACE), as Bedrock sent it. */
  trace?: unknown
  performanceConfig?: { latency: string }
  serviceTier?: { type: string }
  /** Bedrock's metadata never came (cancelled, lost): the counts are estimates. */
  partial?: true
}
export interface ErrorData { code: string, message: string, retryable: boolean, retryAfterMs?: number }
export interface DoneData { resumable?: false }

interface Ev<T extends string, D> { type: T, data: D, /** The SSE `id:` (what Last-Event-ID carries). */ id: string }
export type RelayEvent =
  | Ev<'start', StartData>
  | Ev<'text', TextData>
  | Ev<'reasoning', ReasoningData>
  | Ev<'tool_use', ToolUseData>
  | Ev<'tool_input', ToolInputData>
  | Ev<'citation', CitationData>
  | Ev<'block_stop', BlockStopData>
  | Ev<'delta', DeltaData>
  | Ev<'stop', StopData>
  | Ev<'usage', UsageData>
  | Ev<'error', ErrorData>
  | Ev<'done', DoneData>
export type RelayEventType = RelayEvent['type']

export declare const EVENT_TYPES: readonly RelayEventType[]

export type ContentBlock =
  | { text: string }
  | { image: { format: 'png' | 'jpeg' | 'gif' | 'webp', source: { bytes: string } } }
  /** Sent back first in an assistant turn, unchanged: the signature as received, or the redacted bytes as base64. */
  | { reasoningContent: { reasoningText: { text: string, signature?: string } } | { redactedContent: string } }
  | { toolUse: { toolUseId: string, name: string, input: unknown } }
  | { toolResult: { toolUseId: string, content: Array<{ text: string } | { json: unknown }>, status?: 'success' | 'error' } }
/** Bedrock's toolConfig (README "Request"): tool specs with JSON-schema inputs, and the choice. */
export interface ToolConfig {
  tools: Array<{ toolSpec: { name: string, description?: string, inputSchema: { json: Record<string, unknown> } } } | { cachePoint: { type: 'default' } }>
  toolChoice?: { auto: Record<string, never> } | { any: Record<string, never> } | { tool: { name: string } }
}
export interface Message { role: 'user' | 'assistant', content: string | ContentBlock[] }

export type StreamState = 'connecting' | 'streaming' | 'resuming' | 'done' | 'failed' | 'closed'

export interface ConnectionOptions {
  /** The stream route; default `/v1/converse-stream` (relative to the page). Tickets, streams and models are its siblings. */
  url?: string | URL
  /** Sent as `Authorization: Bearer <key>` (fetch), and traded for a ticket for EventSource. */
  apiKey?: string
  /** More request headers for fetch (e.g. an Authorization with your own JWT). */
  headers?: Record<string, string>
}

export interface StreamOptions extends ConnectionOptions {
  prompt?: string
  messages?: Message[]
  model?: string
  system?: string
  maxTokens?: number
  temperature?: number
  topP?: number
  stopSequences?: string[]
  /** Tools the model may call (POST only); this page runs them and sends toolResult blocks back. */
  toolConfig?: ToolConfig
  /** Extended thinking (POST only); the server clamps the budget. */
  reasoning?: { budgetTokens?: number }
  /** POST (default): fetch with a streaming reader, any body. GET: EventSource, `prompt` only. */
  method?: 'GET' | 'POST'
  /** Aborting stops the stream and sends the DELETE (without waiting for the final events). */
  signal?: AbortSignal
  /** GET: a ticket from POST /v1/tickets (or a function that mints one for this query). Default: minted with `apiKey`. */
  ticket?: string | ((query: Record<string, string>) => Promise<string>)
  /** Every event, in order, as it arrives. */
  onEvent?: (event: RelayEvent) => void
  /** connecting -> streaming (-> resuming -> streaming) -> done | failed | closed */
  onState?: (state: StreamState) => void
  /** GET only: an EventSource implementation (default: the global one). */
  EventSource?: new (url: string) => EventSource
}

export interface FollowOptions extends Omit<StreamOptions, 'prompt' | 'messages' | 'method'> {
  streamId: string
  /** Resume after this event instead of replaying from the start. */
  lastEventId?: string
  /** Default 'eventsource' (with a ticket when `apiKey` is set). */
  transport?: 'eventsource' | 'fetch'
}

export interface StreamSummary {
  streamId: string | undefined
  stopReason: string | undefined
  usage: UsageData | undefined
  /** The in-stream `error` event, if one came before `done`. */
  error: ErrorData | undefined
  done: DoneData
  /** From the request to the first text, reasoning or tool block (client-side). */
  firstTokenMs: number | undefined
}

export type CancelOutcome =
  | { status: 'cancelling', httpStatus: 202 }
  | { status: 'ended', httpStatus: 200 }
  | { status: 'refused', httpStatus: number, error: { code: string, message: string, retryAfterMs?: number } }
  | { status: 'unreachable', error: { code: 'network_error', message: string } }
  | { status: 'not_started' }

export interface ConverseStream extends AsyncIterable<RelayEvent> {
  readonly streamId: string | undefined
  readonly lastEventId: string | undefined
  readonly state: StreamState
  readonly firstTokenMs: number | undefined
  /** Resolves at `done`; rejects with a StreamError when refused, lost, or closed. */
  readonly result: Promise<StreamSummary>
  /** DELETE /v1/streams/{id}; resolves with what the server answered. Before `start`, it waits for it (up to 5 s). */
  cancel (options?: { drain?: boolean }): Promise<CancelOutcome>
  /** Stop reading without telling the server. */
  close (): void
}

export declare class StreamError extends Error {
  /** A code from the error catalogue, or a client one: connection_lost, stream_gone, request_refused, closed, http_<status>. */
  readonly code: string
  /** The HTTP status of a refusal (absent for network errors). */
  readonly status: number | undefined
  readonly retryable: boolean
  /** From the body's retryAfterMs or the Retry-After header. */
  readonly retryAfterMs: number | undefined
  /** budget_exhausted: when the budget resets (ISO time). */
  readonly resetAt: string | undefined
}

export interface SseMessage { type: string, data: string, id: string }
export interface SseParser { feed (chunk: string): void, readonly lastEventId: string }
export declare function createSseParser (onMessage: (message: SseMessage) => void): SseParser

export declare function streamConverse (options: StreamOptions): ConverseStream
export declare function followStream (options: FollowOptions): ConverseStream
export declare function mintTicket (options: ConnectionOptions & { query?: Record<string, string> }): Promise<string>
export declare function listModels (options?: ConnectionOptions): Promise<string[]>
