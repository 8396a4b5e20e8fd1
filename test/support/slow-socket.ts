// A real Writable standing in for an SSE response's socket in unit tests: it takes
// nothing until the test says the client read (`take()`), so bytes pile up as they would
// behind a slow client, and `drain` comes when all of it is taken, as on a socket.
import { Writable } from 'node:stream'
import { READER_WINDOW_BYTES } from '../../src/sse/sink.js'

export class SlowSocket extends Writable {
  /** Everything written so far, in order (taken or not). */
  readonly written: string[] = []
  #unread = 0
  readonly #pending: Array<() => void> = []

  constructor () {
    super({ highWaterMark: READER_WINDOW_BYTES })
  }

  override _write (chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.written.push(chunk.toString())
    this.#pending.push(callback)
  }

  /** The client reads everything written; returns what it had not read yet. */
  take (): string {
    while (this.#pending.length > 0) this.#pending.shift()?.()
    const text = this.written.slice(this.#unread).join('')
    this.#unread = this.written.length
    return text
  }
}
