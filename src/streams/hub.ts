// The streams this instance produces, each owned by its StreamSession. A stream runs
// independently of any one client: a client that leaves does not cancel at once; the
// upstream keeps running for the resume grace period, waiting for a reconnect, and is
// aborted if nobody came back (the cost guard, only delayed). Ended streams stay for the
// TTL, for reconnects to replay, within a byte bound: a proxy carrying a steady flow of
// streams ends hundreds a second, and five minutes of them held without a bound filled the
// heap (a 64 MiB heap refused every new stream after some 1,500 short ones, a 256 MiB one
// died of it under 1,000 concurrent clients). Past the bound the oldest ended streams go
// first; a reconnect to one answers 204, as after the TTL, which stops EventSource for
// good and never re-runs it.
import { ProxyError } from '../errors.js'
import type { StreamSession } from './session.js'

export interface HubOptions {
  ttlMs: number
  graceMs: number
  /** Bytes the ended streams may hold in all (their sealed replay buffers); 0 = no bound. */
  maxEndedBytes?: number
  log: { warn: (obj: object, msg: string) => void }
}

interface Held {
  session: StreamSession
  /** Another name clients know the stream by (the AI SDK's chat id), scoped to its owner. */
  alias: string | undefined
  grace: NodeJS.Timeout | undefined
  /** Once ended: when, and the bytes it holds (counted in #endedBytes). */
  endedAt: number
  bytes: number
}

/**
 * What an ended stream holds beside its frames: the session and its AbortController,
 * framing, reader set and index. Measured about 1.8 KiB of heap on Node 24.
 */
const ENDED_STREAM_OVERHEAD_BYTES = 2048

/** `run()`'s promise; a `run` that throws before returning one gives a rejected one. */
function producing (run: () => Promise<void>): Promise<void> {
  try {
    return run()
  } catch (err) {
    return Promise.reject(err)
  }
}

export class StreamHub {
  readonly #streams = new Map<string, Held>()
  readonly #aliases = new Map<string, Held>()
  /** The ended streams, oldest first (a Map keeps insertion order): the TTL and the bound both take from the front. */
  readonly #ended = new Map<string, Held>()
  #endedBytes = 0
  #evicted = 0
  /** One timer for every ended stream: all share the TTL, so they expire in the order they ended. */
  #expiry: NodeJS.Timeout | undefined
  readonly #opts: HubOptions

  constructor (opts: HubOptions) {
    this.#opts = opts
  }

  /** Ended streams held for replay, the bytes they hold, and how many the byte bound forgot before their TTL. */
  get endedStreams (): { count: number, bytes: number, evicted: number } {
    return { count: this.#ended.size, bytes: this.#endedBytes, evicted: this.#evicted }
  }

  get (streamId: string): StreamSession | undefined {
    return this.#streams.get(streamId)?.session
  }

  /** The latest stream started under `alias` (see start), while it is held. */
  byAlias (alias: string): StreamSession | undefined {
    return this.#aliases.get(alias)?.session
  }

  /** Streams whose upstream call is still running. */
  get running (): number {
    return this.#streams.size - this.#ended.size
  }

  /**
   * Registers a session and runs its upstream call (`run`, which must end the session
   * with `done`). The first reader should attach before this, or the grace period starts
   * with nobody to wait for.
   */
  start (session: StreamSession, run: () => Promise<void>, alias?: string): void {
    const held: Held = { session, alias, grace: undefined, endedAt: 0, bytes: 0 }
    this.#streams.set(session.streamId, held)
    if (alias !== undefined) this.#aliases.set(alias, held)
    session.onReadersChange(count => this.#onReaders(held, count))
    const ended = (): void => this.#onEnded(held)
    // One then() rather than catch().finally(): every running stream holds this chain.
    producing(run).then(ended, (err: unknown) => {
      // The relay never throws; this is a defect, but the stream must still end.
      this.#opts.log.warn({ err, streamId: session.streamId }, 'stream producer failed')
      if (!session.ended) session.emit({ type: 'done', data: {} })
      ended()
    })
  }

  #onEnded (held: Held): void {
    clearTimeout(held.grace)
    held.grace = undefined
    held.endedAt = Date.now()
    held.bytes = held.session.heldBytes + ENDED_STREAM_OVERHEAD_BYTES
    this.#ended.set(held.session.streamId, held)
    this.#endedBytes += held.bytes
    const max = this.#opts.maxEndedBytes ?? 0
    if (max > 0) {
      // The stream that just ended stays whatever its size: its reconnect is the likeliest.
      for (const oldest of this.#ended.values()) {
        if (this.#endedBytes <= max || oldest === held) break
        this.#forget(oldest)
        this.#evicted += 1
      }
    }
    this.#expiry ??= this.#armExpiry()
  }

  /** A timer for the oldest ended stream's TTL, or none when nothing ended is held. */
  #armExpiry (): NodeJS.Timeout | undefined {
    const oldest = this.#ended.values().next().value
    if (oldest === undefined) return undefined
    const timer = setTimeout(() => this.#expire(), Math.max(0, oldest.endedAt + this.#opts.ttlMs - Date.now()))
    timer.unref()
    return timer
  }

  #expire (): void {
    const now = Date.now()
    for (const held of this.#ended.values()) {
      if (held.endedAt + this.#opts.ttlMs > now) break
      this.#forget(held)
    }
    this.#expiry = this.#armExpiry()
  }

  #forget (held: Held): void {
    const id = held.session.streamId
    this.#streams.delete(id)
    if (this.#ended.delete(id)) this.#endedBytes -= held.bytes
    if (held.alias !== undefined && this.#aliases.get(held.alias) === held) this.#aliases.delete(held.alias)
  }

  #onReaders (held: Held, count: number): void {
    clearTimeout(held.grace)
    held.grace = undefined
    if (count > 0 || held.session.ended) return
    if (!held.session.resumable) {
      // Nobody can resume it (past the buffer bound, or a surface without resume): no
      // reason to keep paying for tokens. Not a ProxyError: the relay reports client_closed.
      held.session.controller.abort(new Error('the client left and the stream cannot be resumed'))
      return
    }
    this.#armGrace(held)
  }

  #armGrace (held: Held): void {
    held.grace = setTimeout(() => { this.#graceOver(held).catch(() => {}) }, this.#opts.graceMs)
  }

  async #graceOver (held: Held): Promise<void> {
    const { session } = held
    // A reader on another instance (through Redis) counts as a client that came back.
    if (session.mirror !== undefined && await session.mirror.hasRemoteReaders()) return this.#armGrace(held)
    if (session.readerCount === 0 && !session.ended) {
      session.controller.abort(new ProxyError('cancelled', { message: 'No client came back within the resume grace period.' }))
    }
  }

  /** Cancels a stream produced here (DELETE /v1/streams/:id). False when it is not ours or already ended. */
  cancel (streamId: string): boolean {
    const held = this.#streams.get(streamId)
    if (held === undefined || held.session.ended) return false
    held.session.controller.abort(new ProxyError('cancelled', { message: 'The stream was cancelled.' }))
    return true
  }

  /** Shutdown: every running stream ends with `reason` (its last events are still delivered). */
  abortAll (reason: ProxyError): void {
    for (const held of this.#streams.values()) if (!held.session.ended) held.session.controller.abort(reason)
  }

  /** Drops every buffer (after shutdown). */
  clear (): void {
    for (const held of this.#streams.values()) clearTimeout(held.grace)
    clearTimeout(this.#expiry)
    this.#expiry = undefined
    this.#streams.clear()
    this.#aliases.clear()
    this.#ended.clear()
    this.#endedBytes = 0
  }
}
