// Scenario types and pure builders: a scenario is the script the emulator plays for one request.
// Event shapes follow the ConverseStream API (ConverseStreamOutput union members), see
// https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html

/** The in-stream exception members of ConverseStreamOutput (camelCase, as `:exception-type` carries them). */
export type StreamExceptionType =
  | 'internalServerException'
  | 'modelStreamErrorException'
  | 'validationException'
  | 'throttlingException'
  | 'serviceUnavailableException'

export type Step =
  | { event: Record<string, unknown> } // exactly one ConverseStreamOutput member
  | { exception: StreamExceptionType, message?: string } // exception frame, then the response ends
  | { delayMs: number }
  // h2: RST_STREAM INTERNAL_ERROR (scope 'stream', the default) or the whole connection dropped
  // without GOAWAY (scope 'connection'); h1: the socket is destroyed either way.
  | { reset: true, scope?: 'stream' | 'connection' }
  // h2: the server closes the connection gracefully (GOAWAY: its open streams go on to their
  // end, new calls need another connection), as a front end retiring a connection does; h1: nothing.
  | { goaway: true }
  | { end: true } // clean end right here, even without messageStop/metadata
  | { hang: true } // nothing more until the client goes away

export interface Scenario {
  /** Answer with an HTTP error (status, `x-amzn-errortype`, JSON `{ message }`) instead of a stream. */
  httpError?: { status: number, type: string, message?: string }
  steps: Step[]
  /** Delay before each `event` step; defaults to the emulator's `frameDelayMs`. */
  frameDelayMs?: number
  /** Each text delta's text becomes the time its frame was written, `<t:MS>` (stamp.ts; the benchmark). */
  stampText?: boolean
}

/** A ConverseStream citation delta (CitationsDelta): title, source, sourceContent, location. */
export type CitationSpec = Record<string, unknown>

export type BlockSpec =
  | { text: string, citations?: CitationSpec[] } // citations follow the block's text, as Bedrock streams them
  | { reasoning: { text: string, signature?: string } }
  | { redactedReasoning: Uint8Array | string } // bytes, or base64 text
  | { toolUse: { toolUseId: string, name: string, input: string } } // input is JSON text

export interface UsageSpec {
  inputTokens?: number
  outputTokens?: number
  totalTokens?: number
  cacheReadInputTokens?: number
  cacheWriteInputTokens?: number
}

export interface MessageScenarioOptions {
  stopReason?: string
  usage?: UsageSpec
  /** Code points per delta (default 8). */
  chunkChars?: number
  frameDelayMs?: number
  /** Reported in metadata.metrics.latencyMs (default 250). */
  latencyMs?: number
  trace?: unknown
  /** Echoed in metadata, as Bedrock does when the request set them. */
  performanceConfig?: { latency: string }
  serviceTier?: { type: string }
}

const DEFAULT_CHUNK_CHARS = 8
const DEFAULT_INPUT_TOKENS = 12
const DEFAULT_LATENCY_MS = 250

/**
 * Splits by code points so a surrogate pair (emoji) is never cut in half. ZWJ sequences may be split
 * between chunks, as real models do; concatenation restores them. '' gives [''] so a block keeps one delta.
 */
const STEP_KINDS = ['event', 'exception', 'delayMs', 'reset', 'goaway', 'end', 'hang'] as const

/**
 * Throws for a step of no known kind (or of two), before anything is sent: such a step
 * would otherwise be played as nothing at all, and the request would hang until its client
 * gave up, far from the typo that caused it (`httpError` belongs on the scenario, not in a step).
 */
export function checkScenario (scenario: Scenario): void {
  if (!Array.isArray(scenario.steps)) throw new Error('scenario needs a steps array')
  for (const [i, step] of scenario.steps.entries()) {
    const kinds = STEP_KINDS.filter(kind => step !== null && typeof step === 'object' && kind in step)
    if (kinds.length !== 1) throw new Error(`scenario step ${i} must have exactly one of ${STEP_KINDS.join(', ')}; got ${JSON.stringify(step)}`)
  }
}

export function chunkCodePoints (text: string, size: number): string[] {
  const points = Array.from(text)
  if (points.length === 0) return ['']
  const step = Math.max(1, Math.floor(size))
  const chunks: string[] = []
  for (let i = 0; i < points.length; i += step) chunks.push(points.slice(i, i + step).join(''))
  return chunks
}

/** Blobs travel as base64 inside the JSON event body (restJson1 blob serialization). */
export function toBase64 (bytes: Uint8Array | string): string {
  return typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('base64')
}

function blockSteps (block: BlockSpec, index: number, chunkChars: number): Step[] {
  const delta = (d: Record<string, unknown>): Step =>
    ({ event: { contentBlockDelta: { contentBlockIndex: index, delta: d } } })
  const steps: Step[] = []
  if ('text' in block) {
    for (const text of chunkCodePoints(block.text, chunkChars)) steps.push(delta({ text }))
    for (const citation of block.citations ?? []) steps.push(delta({ citation }))
  } else if ('reasoning' in block) {
    for (const text of chunkCodePoints(block.reasoning.text, chunkChars)) steps.push(delta({ reasoningContent: { text } }))
    if (block.reasoning.signature !== undefined) steps.push(delta({ reasoningContent: { signature: block.reasoning.signature } }))
  } else if ('redactedReasoning' in block) {
    steps.push(delta({ reasoningContent: { redactedContent: toBase64(block.redactedReasoning) } }))
  } else {
    const { toolUseId, name, input } = block.toolUse
    // Bedrock sends contentBlockStart only for tool use (it carries id and name); other blocks begin with a delta.
    steps.push({ event: { contentBlockStart: { contentBlockIndex: index, start: { toolUse: { toolUseId, name } } } } })
    for (const chunk of chunkCodePoints(input, chunkChars)) steps.push(delta({ toolUse: { input: chunk } }))
  }
  steps.push({ event: { contentBlockStop: { contentBlockIndex: index } } })
  return steps
}

function countChars (blocks: BlockSpec[]): number {
  let chars = 0
  for (const b of blocks) {
    if ('text' in b) chars += b.text.length
    else if ('reasoning' in b) chars += b.reasoning.text.length
    else if ('toolUse' in b) chars += b.toolUse.input.length + b.toolUse.name.length
    else chars += 16
  }
  return chars
}

/** Builds the full ConverseStream event sequence for an assistant message made of `blocks`. */
export function messageScenario (blocks: BlockSpec[], opts: MessageScenarioOptions = {}): Scenario {
  const chunkChars = opts.chunkChars ?? DEFAULT_CHUNK_CHARS
  const steps: Step[] = [{ event: { messageStart: { role: 'assistant' } } }]
  blocks.forEach((block, i) => steps.push(...blockSteps(block, i, chunkChars)))
  const stopReason = opts.stopReason ?? (blocks.some((b) => 'toolUse' in b) ? 'tool_use' : 'end_turn')
  steps.push({ event: { messageStop: { stopReason } } })

  const inputTokens = opts.usage?.inputTokens ?? DEFAULT_INPUT_TOKENS
  const outputTokens = opts.usage?.outputTokens ?? Math.max(1, Math.ceil(countChars(blocks) / 4))
  const usage: Record<string, number> = {
    inputTokens,
    outputTokens,
    totalTokens: opts.usage?.totalTokens ?? inputTokens + outputTokens,
  }
  if (opts.usage?.cacheReadInputTokens !== undefined) usage['cacheReadInputTokens'] = opts.usage.cacheReadInputTokens
  if (opts.usage?.cacheWriteInputTokens !== undefined) usage['cacheWriteInputTokens'] = opts.usage.cacheWriteInputTokens
  const metadata: Record<string, unknown> = { usage, metrics: { latencyMs: opts.latencyMs ?? DEFAULT_LATENCY_MS } }
  if (opts.trace !== undefined) metadata['trace'] = opts.trace
  if (opts.performanceConfig !== undefined) metadata['performanceConfig'] = opts.performanceConfig
  if (opts.serviceTier !== undefined) metadata['serviceTier'] = opts.serviceTier
  steps.push({ event: { metadata } })

  const scenario: Scenario = { steps }
  if (opts.frameDelayMs !== undefined) scenario.frameDelayMs = opts.frameDelayMs
  return scenario
}

export function textScenario (text: string, opts: MessageScenarioOptions = {}): Scenario {
  return messageScenario([{ text }], opts)
}

/** Status and error type of the HTTP error that /converse answers for an in-stream exception. */
export const exceptionHttpError: Record<StreamExceptionType, { status: number, type: string }> = {
  internalServerException: { status: 500, type: 'InternalServerException' },
  modelStreamErrorException: { status: 424, type: 'ModelStreamErrorException' },
  validationException: { status: 400, type: 'ValidationException' },
  throttlingException: { status: 429, type: 'ThrottlingException' },
  serviceUnavailableException: { status: 503, type: 'ServiceUnavailableException' },
}
