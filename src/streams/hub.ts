// The streams this instance produces. A stream runs independently of any one client:
// the producer pulls Bedrock into the LiveStream buffer (and mirrors it to Redis when
// configured); SSE responses are readers of that buffer. A client that leaves does not
// cancel at once: the upstream keeps running for the resume grace period, waiting for
// a reconnect, then is aborted if nobody came back (the cost guard, only delayed).
import type { RelayEvent } from '../events.js'
import { ProxyError } from '../errors.js'
import { LiveStream } from './live-stream.js'
import type { StreamMirror } from './mirror.js'

export interface HubOptions {
  ttlMs: number
  maxBytes: number
  graceMs: number
  log: { warn: (obj: object, msg: string) => void }
}

interface Produced {
  live: LiveStream
  controller: AbortController
  mirror: StreamMirror | undefined
  grace: NodeJS.Timeout | undefined
  expiry: NodeJS.Timeout | undefined
}

export class StreamHub {
  readonly #streams = new Map<string, Produced>()
  readonly #opts: HubOptions

  constructor (opts: HubOptions) {
    this.#opts = opts
  }

  get (streamId: string): LiveStream | undefined {
    return this.#streams.get(streamId)?.live
  }

  /** Streams whose upstream call is still running. */
  get running (): number {
    let n = 0
    for (const s of this.#streams.values()) if (!s.live.ended) n++
    return n
  }

  /**
   * Registers a stream and starts pulling `events` (which must end with `done`). The first
   * reader should attach right away, or the grace period starts with nobody to wait for.
   */
  start (live: LiveStream, controller: AbortController, events: AsyncIterable<RelayEvent>, mirror: StreamMirror | undefined): void {
    const produced: Produced = { live, controller, mirror, grace: undefined, expiry: undefined }
    this.#streams.set(live.streamId, produced)
    live.onReadersChange(count => this.#onReaders(produced, count))
    this.#produce(produced, events).catch(() => {}) // never rejects: failures end the stream inside
  }

  async #produce (p: Produced, events: AsyncIterable<RelayEvent>): Promise<void> {
    const { live, controller } = p
    try {
      for await (const event of events) {
        const entry = live.append(event)
        p.mirror?.append(entry, live.resumable)
        // Backpressure: wait for the slowest attached reader before pulling more from Bedrock.
        await live.waitForRoom(controller.signal)
      }
    } catch (err) {
      // relayConverseStream never throws; this is a defect, but the stream must still end.
      this.#opts.log.warn({ err, streamId: live.streamId }, 'stream producer failed')
      if (!live.ended) live.append({ type: 'done', data: {} })
    } finally {
      clearTimeout(p.grace)
      p.mirror?.finish(live)
      p.expiry = setTimeout(() => this.#streams.delete(live.streamId), this.#opts.ttlMs)
      p.expiry.unref()
    }
  }

  #onReaders (p: Produced, count: number): void {
    clearTimeout(p.grace)
    p.grace = undefined
    if (count > 0 || p.live.ended) return
    if (!p.live.resumable) {
      // Past the buffer bound nobody can resume: no reason to keep paying for tokens.
      p.controller.abort(new ProxyError('cancelled', { message: 'The client left and the stream can no longer be resumed.' }))
      return
    }
    this.#armGrace(p)
  }

  #armGrace (p: Produced): void {
    p.grace = setTimeout(() => { this.#graceOver(p).catch(() => {}) }, this.#opts.graceMs)
  }

  async #graceOver (p: Produced): Promise<void> {
    // A reader on another instance (through Redis) counts as a client that came back.
    if (p.mirror !== undefined && await p.mirror.hasRemoteReaders()) return this.#armGrace(p)
    if (p.live.readerCount === 0 && !p.live.ended) {
      p.controller.abort(new ProxyError('cancelled', { message: 'No client came back within the resume grace period.' }))
    }
  }

  /** Cancels a stream produced here (DELETE /v1/streams/:id). False when it is not ours or already ended. */
  cancel (streamId: string): boolean {
    const p = this.#streams.get(streamId)
    if (p === undefined || p.live.ended) return false
    p.controller.abort(new ProxyError('cancelled', { message: 'The stream was cancelled.' }))
    return true
  }

  /** Shutdown: every running stream ends with `reason` (its last events are still delivered). */
  abortAll (reason: ProxyError): void {
    for (const p of this.#streams.values()) if (!p.live.ended) p.controller.abort(reason)
  }

  /** Drops every buffer (after shutdown). */
  clear (): void {
    for (const p of this.#streams.values()) {
      clearTimeout(p.grace)
      clearTimeout(p.expiry)
    }
    this.#streams.clear()
  }
}
