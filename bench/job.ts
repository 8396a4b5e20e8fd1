// What the orchestrator asks of a load client process, and what it answers (one JSON line).
import type { Percentiles } from './stats.js'
import type { PathId, Target } from './paths/types.js'

export interface LoadJob {
  mode: 'load'
  path: PathId
  target: Target
  concurrency: number
  tokens: number
  frameDelayMs: number
  /** Streams run but not counted, so the window sees a warm, steady state. */
  warmupMs: number
  measureMs: number
  /** After the window: how long streams still open may take to finish before they are aborted. */
  drainMs: number
  /** Processes whose CPU and RSS the client reads at the window's edges; server absent: the client itself. */
  watch: { server?: number | undefined, emulator: number, others?: Record<string, number> }
}

export interface HoldJob {
  mode: 'hold'
  path: PathId
  target: Target
  count: number
  /** Requests being sent at once while opening. */
  openConcurrency: number
  firstTokenDelayMs: number
  /** The client gives up and exits on its own after this long. */
  deadlineMs: number
}

export type Job = LoadJob | HoldJob

export interface LoadResult {
  type: 'load'
  path: PathId
  concurrency: number
  tokensPerStream: number
  /** The measured window, seconds (as it really ran: timers can be late under load). */
  windowS: number
  streamsStarted: number
  streamsOk: number
  /** Streams started in the window that did not end with their end marker (errors, aborted at the deadline). */
  incomplete: number
  /** Up to 5 distinct failure messages with their counts, all streams included. */
  errors: Record<string, number>
  tokens: number
  tokensPerS: number
  ttfbMs: Percentiles
  ttftMs: Percentiles
  /**
   * Receive time minus the time the token left the emulator: its stamp, plus, over HTTP/2,
   * what it waited in the emulator for the end of its event-loop turn (emulatorWaitMs).
   */
  addedMs: Percentiles
  /** Receive time minus the stamp alone (what addedMs was before the emulator's wait was known). */
  addedFromStampMs: Percentiles
  /**
   * How long the tokens the emulator sent over HTTP/2 waited in it before leaving
   * (src/emulator/stamp.ts, SendLog): the harness's, not counted in addedMs. None (count 0)
   * over HTTP/1.1, where a write leaves at once.
   */
  emulatorWaitMs: Percentiles
  /** CPU seconds used in the window. */
  cpuS: { server: number, emulator: number, client: number, others: Record<string, number>, machine: number }
  rssBytes: { idle: number, peak: number }
}

export interface HoldOpened {
  type: 'opened'
  requested: number
  sent: number
  failed: number
  openMs: number
}

export interface HoldResult {
  type: 'hold'
  /** Streams that got response bytes (the proxy sends `start` at once; others wait for the first event). */
  responded: number
  failed: number
  errors: Record<string, number>
}

export type ClientMessage = LoadResult | HoldOpened | HoldResult
