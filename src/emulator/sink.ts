// One response, over HTTP/1.1 or h2 (compat API): writes that honour backpressure, timers that are
// cancelled when the client leaves, and the two ways to drop a response abruptly.
import type { ServerResponse } from 'node:http'
import http2, { type Http2ServerResponse } from 'node:http2'

export type Protocol = 'h2' | 'http/1.1'

export class ResponseSink {
  readonly protocol: Protocol
  readonly #res: ServerResponse | Http2ServerResponse
  readonly #closeWaiters = new Set<() => void>()
  #closed = false
  #writes = 0

  constructor (res: ServerResponse | Http2ServerResponse, protocol: Protocol) {
    this.#res = res
    this.protocol = protocol
    // 'close' on the response (not the request: that one fires once the body is read, FIELD-NOTES 10)
    // means the stream or the socket is gone: client abort, our end(), reset or server close.
    res.once('close', () => {
      this.#closed = true
      for (const fn of [...this.#closeWaiters]) fn()
      this.#closeWaiters.clear()
    })
  }

  get closed (): boolean { return this.#closed }

  /** Chunks handed to the response so far (each event-stream frame is one). */
  get writes (): number { return this.#writes }

  get headersSent (): boolean { return this.#res.headersSent }

  /** Runs `fn` once when the response closes; returns an unsubscribe. */
  onClose (fn: () => void): () => void {
    if (this.#closed) { fn(); return () => {} }
    this.#closeWaiters.add(fn)
    return () => this.#closeWaiters.delete(fn)
  }

  /** Sends the status line/HEADERS frame now, as Bedrock does before the first event. */
  head (status: number, headers: Record<string, string>): void {
    if (this.#closed) return
    // The two writeHead() overload sets don't unify in TypeScript; both take (status, headers).
    if (this.protocol === 'h2') (this.#res as Http2ServerResponse).writeHead(status, headers)
    else (this.#res as ServerResponse).writeHead(status, headers)
    // h2 compat writeHead already sends HEADERS; an h1 ServerResponse waits for the first write.
    if (this.protocol === 'http/1.1') (this.#res as ServerResponse).flushHeaders()
  }

  /** Resolves true once the chunk is accepted (after 'drain' if needed), false if the client left. */
  write (chunk: Uint8Array): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false)
    this.#writes++
    // The two write() overload sets don't unify in TypeScript; both accept a Uint8Array.
    const accepted = this.protocol === 'h2'
      ? (this.#res as Http2ServerResponse).write(chunk)
      : (this.#res as ServerResponse).write(chunk)
    if (accepted) return Promise.resolve(true)
    return new Promise((resolve) => {
      const done = (): void => {
        this.#res.off('drain', onDrain)
        off()
        resolve(!this.#closed)
      }
      const onDrain = (): void => done()
      const off = this.onClose(done)
      this.#res.once('drain', onDrain)
    })
  }

  /** Resolves true after `ms`, or false as soon as the client leaves (the timer is cleared). */
  sleep (ms: number): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false)
    if (ms <= 0) return Promise.resolve(true)
    return new Promise((resolve) => {
      const timer = setTimeout(() => { off(); resolve(true) }, ms)
      const off = this.onClose(() => { clearTimeout(timer); resolve(false) })
    })
  }

  untilClose (): Promise<void> {
    return new Promise((resolve) => { this.onClose(resolve) })
  }

  end (body?: string): void {
    if (this.#closed) return
    if (body === undefined) this.#res.end()
    else this.#res.end(body)
  }

  /** h2: GOAWAY, then the connection closes once its open streams have ended (Http2Session.close). h1: nothing. */
  goaway (): void {
    if (this.protocol === 'h2') (this.#res as Http2ServerResponse).stream.session?.close()
  }

  /**
   * h2: RST_STREAM INTERNAL_ERROR on this stream, or with scope 'connection' the session dies without
   * GOAWAY, like a dropped TCP connection. h1: destroy the socket (no chunked terminator).
   */
  reset (scope: 'stream' | 'connection' = 'stream'): void {
    if (this.#closed) return
    if (this.protocol === 'h2') {
      const { stream } = this.#res as Http2ServerResponse
      if (scope === 'connection') stream.session?.destroy()
      else stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR)
    } else {
      (this.#res as ServerResponse).socket?.destroy()
    }
  }
}
