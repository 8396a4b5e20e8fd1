// The body of one SSE response for a stream produced here: a Readable that Fastify pipes
// to the socket and that the stream's session pushes frames into, each one a Buffer
// encoded once for every reader (streams/replay-buffer.ts). Pushing is synchronous: no
// generator, no promise per event. `full` tells the session that this reader's client is
// not keeping up (the session then waits before it pulls more from Bedrock), and
// `room()` resolves when the socket asks for more. One heartbeat clock per response:
// a frame touches it, nothing is armed per event (FIELD-NOTES 16).
import { Readable } from 'node:stream'
import { IdleClock } from '../idle-clock.js'
import { formatComment } from './format.js'

/** How far (bytes not yet taken by the socket) a reader may fall behind before the producer waits. */
export const READER_WINDOW_BYTES = 64 * 1024

const PING = Buffer.from(formatComment('ping'))

export class SseSink extends Readable {
  readonly #heartbeat: IdleClock
  #waiters: Array<() => void> = []
  #finished = false

  /** @param onPing called for every heartbeat written (metrics); keep it cheap. */
  constructor (heartbeatMs: number, onPing?: () => void) {
    super({ highWaterMark: READER_WINDOW_BYTES })
    this.#heartbeat = new IdleClock(heartbeatMs, () => {
      this.push(PING)
      onPing?.()
    })
  }

  /** Queues one frame; false when the reader is past its window (see `full`), or gone. */
  send (frame: Buffer): boolean {
    if (this.destroyed || this.#finished) return false
    this.#heartbeat.touch()
    return this.push(frame)
  }

  /** The client has more than a window of unread bytes queued here (never once it is gone). */
  get full (): boolean {
    return !this.destroyed && !this.#finished && this.readableLength >= READER_WINDOW_BYTES
  }

  /** Resolves when the socket takes more (or the response is gone). */
  async room (): Promise<void> {
    if (!this.full || this.destroyed) return
    await new Promise<void>(resolve => this.#waiters.push(resolve))
  }

  /** The last frame was sent: end the response once the socket has it all. */
  finish (): void {
    this.#heartbeat.stop()
    if (!this.destroyed && !this.#finished) this.push(null)
    this.#finished = true
    this.#wake()
  }

  override _read (): void {
    this.#wake()
  }

  override _destroy (err: Error | null, callback: (error?: Error | null) => void): void {
    this.#heartbeat.stop()
    this.#wake()
    callback(err)
  }

  #wake (): void {
    if (this.#waiters.length === 0) return
    const waiters = this.#waiters
    this.#waiters = []
    for (const resolve of waiters) resolve()
  }
}
