// One SSE response of a stream produced here: the stream's session hands it each frame,
// a Buffer encoded once for every reader (streams/replay-buffer.ts), and it writes the
// frame straight to the response, synchronously: no Readable piped in between, no
// generator, no promise per event. Frames that come before the response is committed
// (the `start` frame, while a surface waits on Bedrock's first event) are queued and
// written with the headers. `full` tells the session that this reader's client is not
// keeping up (the session then waits before it pulls more from Bedrock), and `room()`
// resolves when the socket has taken enough. One heartbeat clock per response: a frame
// touches it, nothing is armed per event (FIELD-NOTES 16).
//
// Why not a Readable that Fastify pipes (as before, issue 10): while 10,000 streams wait
// on a slow first token, each one's Readable, its pipe and Fastify's two end-of-stream
// watchers held about 4 KiB of listeners and closures; a response written directly holds
// this object and its clock.
import { IdleClock } from '../idle-clock.js'
import { formatComment } from './format.js'

/** How far (bytes not yet taken by the socket) a reader may fall behind before the producer waits. */
export const READER_WINDOW_BYTES = 64 * 1024

const PING = Buffer.from(formatComment('ping'))

/** What a sink writes to: an http.ServerResponse (or any Writable, in tests). */
export interface SseTarget {
  write: (chunk: Buffer) => boolean
  end: () => unknown
  /** Bytes written and not yet taken by the socket (a ServerResponse counts its socket's too). */
  readonly writableLength: number
  readonly destroyed: boolean
  once: (event: 'drain', listener: () => void) => unknown
  removeListener: (event: 'drain', listener: () => void) => unknown
}

export class SseSink {
  readonly #heartbeat: IdleClock<SseSink>
  readonly #onPing: (() => void) | undefined
  #target: SseTarget | undefined
  /** Frames before the response is committed; undefined once it is. */
  #queued: Buffer[] | undefined = []
  #queuedBytes = 0
  #waiters: Array<() => void> | undefined
  #onDrain: (() => void) | undefined
  #onClose: (() => void) | undefined
  #finished = false
  #closed = false

  /** @param onPing called for every heartbeat written (metrics); keep it cheap. */
  constructor (heartbeatMs: number, onPing?: () => void) {
    this.#onPing = onPing
    this.#heartbeat = new IdleClock(heartbeatMs, SseSink.#ping, this)
  }

  /** The response was committed (status and headers set): write what was queued, then every frame as it comes. */
  open (target: SseTarget): void {
    if (this.#target !== undefined || this.#closed) return
    this.#target = target
    const queued = this.#queued ?? []
    this.#queued = undefined
    this.#queuedBytes = 0
    for (const frame of queued) target.write(frame)
    if (this.#finished) target.end()
    this.#wake()
  }

  /** Writes (or queues) one frame; false when the reader is past its window (see `full`), or gone. */
  send (frame: Buffer): boolean {
    if (this.#closed || this.#finished) return false
    this.#heartbeat.touch()
    this.#write(frame)
    return !this.full
  }

  /** The client has more than a window of unread bytes (never once it is gone or finished). */
  get full (): boolean {
    if (this.#closed || this.#finished) return false
    return (this.#target?.writableLength ?? this.#queuedBytes) >= READER_WINDOW_BYTES
  }

  /** True once the response is gone (closed by the client, or destroyed here). */
  get closed (): boolean { return this.#closed }

  /** Resolves when the socket takes more (or the response is gone). */
  async room (): Promise<void> {
    if (!this.full) return
    await new Promise<void>(resolve => {
      if (this.#waiters === undefined) {
        this.#waiters = []
        // Registered only while someone waits: a waiting stream holds no listener for it.
        this.#onDrain ??= () => this.#wake()
        this.#target?.once('drain', this.#onDrain)
      }
      this.#waiters.push(resolve)
    })
  }

  /** The last frame was sent: end the response once the socket has it all. */
  finish (): void {
    if (this.#finished || this.#closed) return
    this.#finished = true
    this.#heartbeat.stop()
    this.#target?.end()
    this.#wake()
  }

  /** The response is gone (its `close`): stop, release any wait, tell the owner once. */
  destroy (): void {
    if (this.#closed) return
    this.#closed = true
    this.#heartbeat.stop()
    this.#queued = undefined
    this.#wake()
    const onClose = this.#onClose
    this.#onClose = undefined
    onClose?.()
  }

  /** Called once when the response goes away (the session's reader count). */
  onClose (fn: () => void): void {
    this.#onClose = fn
  }

  #write (bytes: Buffer): void {
    if (this.#target === undefined) {
      this.#queued?.push(bytes)
      this.#queuedBytes += bytes.length
    } else if (!this.#target.destroyed) {
      this.#target.write(bytes)
    }
  }

  static #ping (sink: SseSink): void {
    if (sink.#closed || sink.#finished) return
    sink.#write(PING)
    sink.#onPing?.()
  }

  #wake (): void {
    const waiters = this.#waiters
    if (waiters === undefined) return
    this.#waiters = undefined
    if (this.#onDrain !== undefined) this.#target?.removeListener('drain', this.#onDrain)
    for (const resolve of waiters) resolve()
  }
}
