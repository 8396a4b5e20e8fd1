// One relayed stream: `start` at once, then the upstream ConverseStream mapped to relay
// events, then `done`, with every failure turned into an `error` event before `done`.
// It never throws, so every stream the client sees ends with `done`. Events go out
// through a synchronous `emit` (the stream's session buffers and frames them).
// Cancellation flows back through one AbortController: the stream hub aborts it (the
// resume grace period ran out with no client, DELETE, shutdown), and so do our own
// timers (the SDK has none, FIELD-NOTES 2). A client leaving only detaches its reader.
import type { BedrockRuntimeClient, ConverseStreamCommandInput, ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime'
import { ProxyError } from '../errors.js'
import { IdleClock } from '../idle-clock.js'
import type { RelayEvent } from '../events.js'
import { partialUsage } from '../usage-estimate.js'
import { checkComplete, mapUpstreamEvent, newTally, type StreamTally } from './relay-events.js'
import { logLevelOf, toProxyError } from './upstream-errors.js'
import { openConverseStream } from './converse-call.js'
import { UpstreamEventStream } from './upstream-stream.js'

/** cancelled: nobody came back within the resume grace period, or DELETE /v1/streams/:id. */
export type StreamOutcome = 'completed' | 'error' | 'client_closed' | 'cancelled'

export interface StreamSummary {
  streamId: string
  model: string
  outcome: StreamOutcome
  errorCode?: string
  stopReason?: string
  timeToFirstTokenMs?: number
  inputTokens?: number
  outputTokens?: number
  cacheReadInputTokens?: number
  cacheWriteInputTokens?: number
  /** HTTP attempts made, retries included (the SDK's retry strategy), when known. */
  upstreamAttempts?: number
  durationMs: number
  /** The token counts are estimates (Bedrock's metadata never came). */
  partial?: true
  /** Answered as one JSON document (/v1/converse, a chat completion without `stream`), not streamed. */
  document?: true
}

/** The slice of pino this module needs; keeps bedrock/ free of Fastify. */
export interface RelayLogger {
  info: (obj: object, msg: string) => void
  warn: (obj: object, msg: string) => void
  error: (obj: object, msg: string) => void
}

export interface RelayOptions {
  client: BedrockRuntimeClient
  input: ConverseStreamCommandInput & { modelId: string }
  streamId: string
  /** The stream's one cancellation: the owner aborts it (grace over, DELETE, shutdown), and so do our timers. */
  controller: AbortController
  firstEventTimeoutMs: number
  idleTimeoutMs: number
  log: RelayLogger
  /** Takes each relay event, synchronously, in order. */
  emit: (event: RelayEvent) => void
  /** Backpressure: a promise to wait on before pulling more from Bedrock, or undefined (the usual case). */
  waitForRoom: () => Promise<void> | undefined
  onFinish?: (summary: StreamSummary) => void
}

/**
 * Runs one upstream call to its end. Never throws: every failure becomes an `error`
 * event, and the last event is always `done`.
 */
export async function relayConverseStream (opts: RelayOptions): Promise<void> {
  const { client, input, streamId, controller, emit } = opts
  const { signal } = controller
  const startedAt = Date.now()
  const tally = newTally()
  let failure: ProxyError | undefined
  let attempts: number | undefined
  try {
    emit({ type: 'start', data: { streamId, model: input.modelId } })
    // The call opens once the first event frame has arrived (FIELD-NOTES 3), so the
    // first-event deadline covers it, retries of a throttled first frame included.
    const call = await withDeadline(openConverseStream(client, input, signal), opts.firstEventTimeoutMs, controller, 'first event')
    attempts = call.attempts
    if (call.stream instanceof UpstreamEventStream) await pumpDecoded(call.stream, opts, tally)
    else await pump(call.stream, opts, tally)
  } catch (err) {
    failure = toProxyError(err, signal)
    attempts ??= attemptsOf(err)
    if (signal.aborted && signal.reason instanceof ProxyError) {
      // We ended it (timeout, DELETE, grace over, shutdown): what the SDK threw then is a
      // consequence (often "ended before complete"), so the log names our reason.
      if (failure.code === 'cancelled' || failure.code === 'shutting_down') opts.log.info({ code: failure.code, reason: failure.message }, 'stream ended early')
      else opts.log.warn({ code: failure.code, err: signal.reason }, 'stream failed')
    } else if (!signal.aborted) {
      opts.log[logLevelOf(failure)]({ code: failure.code, err }, 'stream failed')
    }
    emit({ type: 'error', data: failure.toEventData() })
    // Bedrock bills what the model produced even when its metadata never came (cancelled,
    // lost, cut): report an estimate, marked partial, so clients and budgets see it.
    if (tally.usage === undefined && tally.firstEventAt !== undefined) {
      tally.usage = partialUsage(inputCharsOf(input), tally.outputChars)
      emit({ type: 'usage', data: tally.usage })
    }
  }
  const clientClosed = signal.aborted && !(signal.reason instanceof ProxyError)
  opts.onFinish?.({
    streamId,
    model: input.modelId,
    outcome: clientClosed ? 'client_closed' : failure?.code === 'cancelled' ? 'cancelled' : failure !== undefined ? 'error' : 'completed',
    ...(failure !== undefined && !clientClosed ? { errorCode: failure.code } : {}),
    ...(tally.stopReason !== undefined ? { stopReason: tally.stopReason } : {}),
    ...(tally.firstEventAt !== undefined ? { timeToFirstTokenMs: tally.firstEventAt - startedAt } : {}),
    ...(tally.usage !== undefined ? { inputTokens: tally.usage.inputTokens, outputTokens: tally.usage.outputTokens } : {}),
    ...(tally.usage?.cacheReadInputTokens !== undefined ? { cacheReadInputTokens: tally.usage.cacheReadInputTokens } : {}),
    ...(tally.usage?.cacheWriteInputTokens !== undefined ? { cacheWriteInputTokens: tally.usage.cacheWriteInputTokens } : {}),
    ...(tally.usage?.partial === true ? { partial: true } : {}),
    ...(attempts !== undefined ? { upstreamAttempts: attempts } : {}),
    durationMs: Date.now() - startedAt,
  })
  emit({ type: 'done', data: {} })
}

/**
 * The hot path: one upstream event in, its relay events out, synchronously. One idle
 * clock for the whole stream (a clock read per event, no timer armed per event), that
 * counts only while we wait on Bedrock: when the client reads slowly we stop pulling
 * (backpressure), and that pause is not upstream silence.
 */
async function pump (stream: AsyncIterable<ConverseStreamOutput>, opts: RelayOptions, tally: StreamTally): Promise<void> {
  const { controller, idleTimeoutMs, emit } = opts
  const iterator = stream[Symbol.asyncIterator]()
  let waiting = false
  const idle = new IdleClock(idleTimeoutMs, function idleDeadline () {
    if (waiting) controller.abort(timeoutError('event', idleTimeoutMs))
  })
  try {
    while (true) {
      waiting = true
      idle.touch()
      const next = await iterator.next()
      waiting = false
      if (next.done === true) break
      mapUpstreamEvent(next.value, tally, emit)
      const room = opts.waitForRoom()
      if (room !== undefined) await room
    }
  } finally {
    idle.stop()
    // Releases the SDK's reader when we stop early (not awaited: it must never hold up
    // the stream's end); the abort signal is what closes the request (FIELD-NOTES 5).
    iterator.return?.().catch(() => {})
  }
  checkComplete(tally)
}

/**
 * The hot path, when the client decodes the stream itself (upstream-stream.ts, the
 * default): each chunk's events are mapped and emitted synchronously as the chunk
 * arrives, no promise per event. The idle clock counts only while we read; a pause for a
 * slow client (backpressure) is not upstream silence.
 */
async function pumpDecoded (stream: UpstreamEventStream, opts: RelayOptions, tally: StreamTally): Promise<void> {
  const { controller, idleTimeoutMs, emit } = opts
  let waiting = true
  const idle = new IdleClock(idleTimeoutMs, function idleDeadline () {
    if (waiting) controller.abort(timeoutError('event', idleTimeoutMs))
  })
  try {
    await stream.relay({
      signal: controller.signal,
      onEvent: event => mapUpstreamEvent(event, tally, emit),
      afterChunk () {
        idle.touch()
        const room = opts.waitForRoom()
        if (room === undefined) return undefined
        waiting = false
        return room.then(() => {
          waiting = true
          idle.touch()
        })
      },
    })
  } finally {
    idle.stop()
  }
  checkComplete(tally)
}

/** The SDK's attempt count on a service error ($metadata, retries included); undefined for aborts and network errors. */
export function attemptsOf (err: unknown): number | undefined {
  if (err === null || typeof err !== 'object' || !('$metadata' in err)) return undefined
  const metadata = (err as { $metadata?: { attempts?: unknown } }).$metadata
  return typeof metadata?.attempts === 'number' ? metadata.attempts : undefined
}

/**
 * Characters of text the request sends (system, messages with their tool inputs and
 * results and reasoning, tool specs), for a partial usage estimate. Runs once per failed
 * stream, never per event.
 */
function inputCharsOf (input: ConverseStreamCommandInput): number {
  let chars = 0
  for (const block of input.system ?? []) chars += block.text?.length ?? 0
  for (const message of input.messages ?? []) {
    for (const block of message.content ?? []) {
      if (block.text !== undefined) chars += block.text.length
      else if (block.toolUse !== undefined) chars += JSON.stringify(block.toolUse.input ?? {}).length
      else if (block.toolResult !== undefined) for (const item of block.toolResult.content ?? []) chars += item.text?.length ?? (item.json !== undefined ? JSON.stringify(item.json).length : 0)
      else if (block.reasoningContent?.reasoningText !== undefined) chars += block.reasoningContent.reasoningText.text?.length ?? 0
    }
  }
  if (input.toolConfig?.tools !== undefined) chars += JSON.stringify(input.toolConfig.tools).length
  return chars
}

function timeoutError (what: string, ms: number): ProxyError {
  return new ProxyError('upstream_timeout', { cause: new Error(`no ${what} from Bedrock within ${ms} ms`) })
}

/** Aborts the call (and with it the pending promise) when `ms` pass first. */
async function withDeadline<T> (promise: Promise<T>, ms: number, controller: AbortController, what: string): Promise<T> {
  const timer = setTimeout(() => controller.abort(timeoutError(what, ms)), ms)
  try {
    return await promise
  } finally {
    clearTimeout(timer)
  }
}
