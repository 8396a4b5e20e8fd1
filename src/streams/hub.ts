// The streams this instance produces, each owned by its StreamSession. A stream runs
// independently of any one client: a client that leaves does not cancel at once; the
// upstream keeps running for the resume grace period, waiting for a reconnect, and is
// aborted if nobody came back (the cost guard, only delayed). Ended streams stay for the
// TTL, for reconnects to replay.
import { ProxyError } from '../errors.js'
import type { StreamSession } from './session.js'

export interface HubOptions {
  ttlMs: number
  graceMs: number
  log: { warn: (obj: object, msg: string) => void }
}

interface Held {
  session: StreamSession
  /** Another name clients know the stream by (the AI SDK's chat id), scoped to its owner. */
  alias: string | undefined
  grace: NodeJS.Timeout | undefined
  expiry: NodeJS.Timeout | undefined
}

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
  readonly #opts: HubOptions

  constructor (opts: HubOptions) {
    this.#opts = opts
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
    let n = 0
    for (const held of this.#streams.values()) if (!held.session.ended) n++
    return n
  }

  /**
   * Registers a session and runs its upstream call (`run`, which must end the session
   * with `done`). The first reader should attach before this, or the grace period starts
   * with nobody to wait for.
   */
  start (session: StreamSession, run: () => Promise<void>, alias?: string): void {
    const held: Held = { session, alias, grace: undefined, expiry: undefined }
    this.#streams.set(session.streamId, held)
    if (alias !== undefined) this.#aliases.set(alias, held)
    session.onReadersChange(count => this.#onReaders(held, count))
    const ended = (): void => {
      clearTimeout(held.grace)
      held.expiry = setTimeout(() => this.#forget(held), this.#opts.ttlMs)
      held.expiry.unref()
    }
    // One then() rather than catch().finally(): every running stream holds this chain.
    producing(run).then(ended, (err: unknown) => {
      // The relay never throws; this is a defect, but the stream must still end.
      this.#opts.log.warn({ err, streamId: session.streamId }, 'stream producer failed')
      if (!session.ended) session.emit({ type: 'done', data: {} })
      ended()
    })
  }

  #forget (held: Held): void {
    this.#streams.delete(held.session.streamId)
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
    for (const held of this.#streams.values()) {
      clearTimeout(held.grace)
      clearTimeout(held.expiry)
    }
    this.#streams.clear()
    this.#aliases.clear()
  }
}
