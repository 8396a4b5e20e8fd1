// The replay buffer of one stream in the producing process: every relay event with its
// sequence number, kept while the stream runs and for the TTL after it ends, so a
// reconnect resumes without calling Bedrock again. Readers follow it live; the producer
// waits for the slowest attached reader (backpressure), so memory stays bounded by the
// buffer limit plus one window, never by the length of the answer.
import type { RelayEvent, SequencedEvent } from '../events.js'

export interface BufferedEvent extends SequencedEvent { bytes: number }

/** How far (in bytes of JSON) an attached reader may fall behind before the producer waits. */
export const READER_WINDOW_BYTES = 64 * 1024

export class LiveStream {
  readonly streamId: string
  readonly model: string
  readonly maxBytes: number
  /** The authenticated principal that started it; undefined for anonymous streams. */
  readonly owner: string | undefined
  /** Sequence numbers start at 1; events[0] has seq `firstSeq`. */
  #events: BufferedEvent[] = []
  #firstSeq = 1
  #bytes = 0
  #resumable = true
  #ended = false
  #wake: Array<() => void> = []
  /** Attached readers and how far each has read (seq). */
  readonly #readers = new Map<symbol, number>()
  #onReadersChange: ((count: number) => void) | undefined

  constructor (streamId: string, model: string, maxBytes: number, owner?: string) {
    this.streamId = streamId
    this.model = model
    this.maxBytes = maxBytes
    this.owner = owner
  }

  get lastSeq (): number { return this.#firstSeq + this.#events.length - 1 }
  get ended (): boolean { return this.#ended }
  /** False once the buffer went past its bound and dropped events: a reconnect can no longer replay. */
  get resumable (): boolean { return this.#resumable }
  get readerCount (): number { return this.#readers.size }
  get bufferedBytes (): number { return this.#bytes }

  onReadersChange (fn: (count: number) => void): void { this.#onReadersChange = fn }

  append (event: RelayEvent): BufferedEvent {
    // The last event tells the client when a reconnect could not resume this stream.
    if (event.type === 'done' && !this.#resumable) event = { type: 'done', data: { resumable: false } }
    const entry = { seq: this.lastSeq + 1, event, bytes: JSON.stringify(event.data).length }
    this.#events.push(entry)
    this.#bytes += entry.bytes
    if (event.type === 'done') this.#ended = true
    if (this.#bytes > this.maxBytes) this.#trim()
    this.#notify()
    return entry
  }

  /** Past the bound: keep streaming live, but drop what every attached reader already has. */
  #trim (): void {
    this.#resumable = false
    const minRead = Math.min(...this.#readers.values(), this.lastSeq)
    while (this.#events.length > 0 && (this.#events[0] as BufferedEvent).seq <= minRead && this.#bytes > this.maxBytes) {
      this.#bytes -= (this.#events.shift() as BufferedEvent).bytes
      this.#firstSeq += 1
    }
  }

  /** True when every event after `afterSeq` is still here (or will be appended). */
  canReplayFrom (afterSeq: number): boolean {
    return afterSeq + 1 >= this.#firstSeq
  }

  /**
   * Attaches a reader at once (so the buffer keeps what it has not read, and the grace
   * clock knows someone is there) and returns the events after `afterSeq`, then follows
   * live until `done`. The caller must have checked canReplayFrom; a reader that falls
   * behind a trimmed buffer ends early. The reader detaches when it ends or `signal`
   * aborts, even if it was never iterated.
   */
  read (afterSeq: number, signal: AbortSignal): AsyncGenerator<BufferedEvent, void, undefined> {
    const key = Symbol('reader')
    this.#readers.set(key, afterSeq)
    this.#onReadersChange?.(this.#readers.size)
    const detach = (): void => {
      if (!this.#readers.delete(key)) return
      this.#notify()
      this.#onReadersChange?.(this.#readers.size)
    }
    signal.addEventListener('abort', detach, { once: true })
    return this.#follow(key, afterSeq, signal, detach)
  }

  async * #follow (key: symbol, afterSeq: number, signal: AbortSignal, detach: () => void): AsyncGenerator<BufferedEvent, void, undefined> {
    let next = afterSeq + 1
    try {
      while (!signal.aborted) {
        if (next < this.#firstSeq) return // trimmed away under us: cannot continue faithfully
        const entry = this.#events[next - this.#firstSeq]
        if (entry === undefined) {
          if (this.#ended) return
          await new Promise<void>(resolve => this.#wake.push(resolve))
          continue
        }
        yield entry
        if (this.#readers.has(key)) this.#readers.set(key, entry.seq) // not once detached
        this.#notify() // the producer may be waiting for room
        next = entry.seq + 1
        if (entry.event.type === 'done') return
      }
    } finally {
      signal.removeEventListener('abort', detach)
      detach()
    }
  }

  /** Resolves when no attached reader lags more than READER_WINDOW_BYTES behind the head, or on abort. */
  async waitForRoom (signal: AbortSignal): Promise<void> {
    const onAbort = (): void => this.#notify()
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      while (!signal.aborted && this.#laggingBytes() > READER_WINDOW_BYTES) {
        await new Promise<void>(resolve => this.#wake.push(resolve))
      }
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
  }

  #laggingBytes (): number {
    if (this.#readers.size === 0) return 0
    const slowest = Math.min(...this.#readers.values())
    let bytes = 0
    for (let i = this.#events.length - 1; i >= 0; i--) {
      const entry = this.#events[i] as BufferedEvent
      if (entry.seq <= slowest) break
      bytes += entry.bytes
      if (bytes > READER_WINDOW_BYTES) break
    }
    return bytes
  }

  #notify (): void {
    const wake = this.#wake
    this.#wake = []
    for (const resolve of wake) resolve()
  }
}
