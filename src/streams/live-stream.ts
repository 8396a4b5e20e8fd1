// The replay buffer of one stream in the producing process: every relay event with its
// sequence number, kept while the stream runs and for the TTL after it ends, so a
// reconnect resumes without calling Bedrock again. Readers follow it live; the producer
// waits for the slowest attached reader (backpressure), so memory stays bounded by the
// buffer limit plus one window, never by the length of the answer.
import { sequenced, type RelayEvent, type SequencedEvent } from '../events.js'

/** `end`: bytes of JSON appended to the stream up to and including this event. */
export interface BufferedEvent extends SequencedEvent { end: number }

/** How far (in bytes of JSON) an attached reader may fall behind before the producer waits. */
export const READER_WINDOW_BYTES = 64 * 1024

interface ReaderPosition { seq: number, end: number }

export class LiveStream {
  readonly streamId: string
  readonly model: string
  readonly maxBytes: number
  /** The authenticated principal that started it; undefined for anonymous streams. */
  readonly owner: string | undefined
  /** Live entries are #events[#head..]; the one at #head has seq #firstSeq. */
  #events: Array<BufferedEvent | undefined> = []
  #head = 0
  #firstSeq = 1
  /** Bytes appended in all, and up to the end of the last dropped event: their difference is what is held. */
  #appendedEnd = 0
  #droppedEnd = 0
  #resumable = true
  #ended = false
  #wake: Array<() => void> = []
  /** Attached readers and how far each has read. */
  readonly #readers = new Map<symbol, ReaderPosition>()
  #onReadersChange: ((count: number) => void) | undefined

  constructor (streamId: string, model: string, maxBytes: number, owner?: string) {
    this.streamId = streamId
    this.model = model
    this.maxBytes = maxBytes
    this.owner = owner
  }

  get lastSeq (): number { return this.#firstSeq + this.#events.length - this.#head - 1 }
  get ended (): boolean { return this.#ended }
  /** False once the buffer went past its bound and dropped events: a reconnect can no longer replay. */
  get resumable (): boolean { return this.#resumable }
  get readerCount (): number { return this.#readers.size }

  onReadersChange (fn: (count: number) => void): void { this.#onReadersChange = fn }

  append (event: RelayEvent): BufferedEvent {
    // The last event tells the client when a reconnect could not resume this stream.
    if (event.type === 'done' && !this.#resumable) event = { type: 'done', data: { resumable: false } }
    // Serialised once here; the SSE frames and the Redis mirror reuse it.
    const { seq, type, json } = sequenced(this.lastSeq + 1, event)
    this.#appendedEnd += json.length
    const entry = { seq, type, json, end: this.#appendedEnd }
    this.#events.push(entry)
    if (event.type === 'done') this.#ended = true
    if (this.#appendedEnd - this.#droppedEnd > this.maxBytes) this.#trim()
    this.#notify()
    return entry
  }

  /** Past the bound: keep streaming live, but drop what every attached reader already has. */
  #trim (): void {
    this.#resumable = false
    let minRead = this.lastSeq
    for (const reader of this.#readers.values()) minRead = Math.min(minRead, reader.seq)
    while (this.#firstSeq <= minRead && this.#appendedEnd - this.#droppedEnd > this.maxBytes) {
      this.#droppedEnd = (this.#events[this.#head] as BufferedEvent).end
      this.#events[this.#head] = undefined // free it now; the slot goes at the next compaction
      this.#head += 1
      this.#firstSeq += 1
    }
    // Compact now and then rather than shift() per event.
    if (this.#head > 1024 && this.#head * 2 > this.#events.length) {
      this.#events = this.#events.slice(this.#head)
      this.#head = 0
    }
  }

  #at (seq: number): BufferedEvent | undefined {
    return seq < this.#firstSeq ? undefined : this.#events[this.#head + seq - this.#firstSeq]
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
    this.#readers.set(key, { seq: afterSeq, end: this.#at(afterSeq)?.end ?? this.#droppedEnd })
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
        const entry = this.#at(next)
        if (entry === undefined) {
          if (this.#ended) return
          await new Promise<void>(resolve => this.#wake.push(resolve))
          continue
        }
        yield entry
        const position = this.#readers.get(key) // gone once detached
        if (position !== undefined) {
          position.seq = entry.seq
          position.end = entry.end
        }
        this.#notify() // the producer may be waiting for room
        next = entry.seq + 1
        if (entry.type === 'done') return
      }
    } finally {
      signal.removeEventListener('abort', detach)
      detach()
    }
  }

  /** Resolves when no attached reader lags more than READER_WINDOW_BYTES behind the head, or on abort. */
  async waitForRoom (signal: AbortSignal): Promise<void> {
    if (this.#laggingBytes() <= READER_WINDOW_BYTES) return // the usual case: no listener, no promise
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
    let slowest = this.#appendedEnd
    for (const reader of this.#readers.values()) slowest = Math.min(slowest, reader.end)
    return this.#appendedEnd - slowest
  }

  #notify (): void {
    if (this.#wake.length === 0) return
    const wake = this.#wake
    this.#wake = []
    for (const resolve of wake) resolve()
  }
}
