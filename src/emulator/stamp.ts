// Send-time stamps for the benchmark (issue 10): with a scenario's `stampText`, each text
// delta's text is replaced, at the moment its frame is written, by `<t:MS>`, MS the stamp
// clock in milliseconds with microsecond decimals. The emulator and the load client run on
// one machine, so `receive time - MS` is the latency everything in between added to that
// token.
import type { Scenario, Step } from './scenario.js'

const STAMP = /<t:(\d+(?:\.\d+)?)>/g

/**
 * The stamp clock, ms with sub-ms resolution: CLOCK_MONOTONIC (process.hrtime), one clock
 * for every process on the host that is never stepped. Not the wall clock: a process's
 * `performance.timeOrigin` is the wall clock read once at its start, so two processes
 * started on either side of a clock adjustment disagree by it for their whole life. With
 * that clock a C=1 run once measured a proxy's added latency at -3.4 ms p50, which only
 * two disagreeing clocks can give.
 */
export function stampClockMs (): number {
  return Number(process.hrtime.bigint()) / 1e6
}

export function formatStamp (ms: number): string {
  return `<t:${ms.toFixed(3)}>`
}

/** Every stamp in `text`, in order (an intermediary may merge deltas: several per chunk). */
export function readStamps (text: string): number[] {
  return Array.from(text.matchAll(STAMP), (m) => Number(m[1]))
}

/** A contentBlockDelta carrying text gets the stamp as its text; any other event is returned as is. */
export function stampPayload (eventType: string, payload: unknown, ms: number): unknown {
  if (eventType !== 'contentBlockDelta' || payload === null || typeof payload !== 'object') return payload
  const { delta } = payload as { delta?: unknown }
  if (delta === null || typeof delta !== 'object' || typeof (delta as { text?: unknown }).text !== 'string') return payload
  return { ...payload, delta: { ...delta, text: formatStamp(ms) } }
}

export interface StampedScenarioOptions {
  /** Delay before each frame (default: the emulator's frameDelayMs). */
  frameDelayMs?: number
  /** Extra silence after messageStart, before the first token: a slow model (default 0). */
  firstTokenDelayMs?: number
}

/** The stamp as a client reads it back from the text (formatStamp rounds to the microsecond). */
export function stampValue (ms: number): number {
  return Number(ms.toFixed(3))
}

/**
 * When each stamped token really left the emulator (issue 10's benchmark). Over HTTP/2,
 * Node does not send what a stream writes at write(): nghttp2's output is flushed from a
 * native immediate at the end of the event-loop turn, so a token stamped early in a busy
 * turn (many timers firing, requests to read) waits in here for the rest of it, and a
 * client that only read the stamp would count that wait as the server's. One JS immediate
 * per turn, queued after the turn's first stamped write, runs right after those flushes:
 * its time is when the turn's tokens left. The benchmark reads the log (GET /sent) and
 * measures each token from then. Over HTTP/1.1 a write reaches the socket before the
 * timer's callback returns: nothing is logged, and the stamp is the send time.
 */
export class SendLog {
  // Flat pairs: the stamp as the client reads it, ms it waited here.
  readonly #pairs: number[] = []
  #turn: number[] = []
  readonly #maxPairs: number

  /** @param maxTokens tokens logged at most (a benchmark run's emulator is fresh per path) */
  constructor (maxTokens = 1_000_000) {
    this.#maxPairs = maxTokens * 2
  }

  /** Right after an HTTP/2 write of a frame stamped `stampMs`. */
  afterWrite (stampMs: number): void {
    if (this.#turn.length === 0) setImmediate(this.#flushed)
    this.#turn.push(stampMs)
  }

  readonly #flushed = (): void => {
    const sentAt = stampClockMs()
    for (const stamp of this.#turn) {
      if (this.#pairs.length >= this.#maxPairs) break
      this.#pairs.push(stampValue(stamp), Math.round((sentAt - stamp) * 1000) / 1000)
    }
    this.#turn = []
  }

  /** [stamp, ms waited, ...] for the tokens stamped at or after `sinceMs`. */
  since (sinceMs: number): number[] {
    const out: number[] = []
    for (let i = 0; i < this.#pairs.length; i += 2) {
      const stamp = this.#pairs[i] ?? 0
      if (stamp >= sinceMs) out.push(stamp, this.#pairs[i + 1] ?? 0)
    }
    return out
  }
}

/** messageStart, `tokens` stamped text deltas, then the usual stop and metadata frames. */
export function stampedScenario (tokens: number, opts: StampedScenarioOptions = {}): Scenario {
  const count = Math.max(1, Math.floor(tokens))
  const steps: Step[] = [{ event: { messageStart: { role: 'assistant' } } }]
  if ((opts.firstTokenDelayMs ?? 0) > 0) steps.push({ delayMs: opts.firstTokenDelayMs ?? 0 })
  for (let i = 0; i < count; i++) steps.push({ event: { contentBlockDelta: { contentBlockIndex: 0, delta: { text: '<t:0>' } } } })
  steps.push(
    { event: { contentBlockStop: { contentBlockIndex: 0 } } },
    { event: { messageStop: { stopReason: 'end_turn' } } },
    { event: { metadata: { usage: { inputTokens: 8, outputTokens: count, totalTokens: 8 + count }, metrics: { latencyMs: 0 } } } }
  )
  const scenario: Scenario = { steps, stampText: true }
  if (opts.frameDelayMs !== undefined) scenario.frameDelayMs = opts.frameDelayMs
  return scenario
}
