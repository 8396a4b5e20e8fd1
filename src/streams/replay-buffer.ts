// The replay buffer of one stream in the producing process: every relay event with its
// sequence number and its frame (sse/framing.ts), encoded once, kept while the stream runs and for
// the TTL after it ends, so a reconnect resumes without calling Bedrock again. Past
// `maxBytes` it keeps the stream going live but drops the oldest events, and the stream
// can no longer be resumed (its `done` says so).
//
// At `done` the buffer is sealed: its frames are copied into one Buffer with an index of
// where each starts, and the per-event entries go. An ended stream is only ever replayed,
// and it is held for the whole STREAM_TTL_MS (minutes) after a life of seconds, so under
// a steady flow of streams the ended ones are most of what the hub holds: a 50-token
// stream held about 18 KiB as entries (an object, a JSON string and a Buffer view per
// event), about 7 KiB sealed (issue 10).
import { sequenced, type RelayEvent, type SequencedEvent } from '../events.js'
import { frameBytes } from '../sse/frame-bytes.js'
import type { Framing } from '../sse/framing.js'

/** `end`: bytes of JSON appended up to and including this event; `frame`: its SSE frame. */
export interface BufferedEvent extends SequencedEvent { end: number, frame: Buffer }

/** An entry's object, its frame's Buffer view and its JSON string's header, as V8 lays them out (about). */
const ENTRY_OVERHEAD_BYTES = 200

export class ReplayBuffer {
  readonly streamId: string
  readonly maxBytes: number
  /** Live entries are #events[#head..]; the one at #head has seq #firstSeq. */
  #events: Array<BufferedEvent | undefined> = []
  #head = 0
  #firstSeq = 1
  /** Bytes appended in all, and up to the end of the last dropped event: their difference is what is held. */
  #appendedEnd = 0
  #droppedEnd = 0
  #resumable = true
  /** After `done`: every held frame back to back, and where each starts (then #events is empty). */
  #sealed: { bytes: Buffer, starts: Uint32Array } | undefined

  readonly #framing: Framing

  constructor (streamId: string, maxBytes: number, framing: Framing) {
    this.streamId = streamId
    this.maxBytes = maxBytes
    this.#framing = framing
  }

  get lastSeq (): number { return this.#firstSeq + this.#heldCount - 1 }
  get #heldCount (): number { return this.#sealed?.starts.length ?? this.#events.length - this.#head }
  /**
   * What the held frames cost, in bytes: their own bytes, plus, while not sealed, each
   * entry's JSON and objects (an estimate), which a sealed buffer no longer holds.
   */
  get heldBytes (): number {
    if (this.#sealed !== undefined) return this.#sealed.bytes.length + this.#sealed.starts.byteLength
    let bytes = 0
    for (let i = this.#head; i < this.#events.length; i++) {
      const entry = this.#events[i] as BufferedEvent
      bytes += entry.frame.length + entry.json.length + ENTRY_OVERHEAD_BYTES
    }
    return bytes
  }

  /** False once the buffer went past its bound and dropped events: a reconnect can no longer replay. */
  get resumable (): boolean { return this.#resumable }

  append (event: RelayEvent): BufferedEvent {
    // The last event tells the client when a reconnect could not resume this stream.
    if (event.type === 'done' && !this.#resumable) event = { type: 'done', data: { resumable: false } }
    // Serialised once: every reader's frame and the Redis mirror reuse it.
    const { seq, type, json } = sequenced(this.lastSeq + 1, event)
    this.#appendedEnd += json.length
    const frame = frameBytes(this.#framing.frame(seq, event, json))
    const entry = { seq, type, json, end: this.#appendedEnd, frame }
    this.#events.push(entry)
    if (this.#appendedEnd - this.#droppedEnd > this.maxBytes) this.#trim()
    if (event.type === 'done') this.#seal()
    return entry
  }

  /** True when every event after `afterSeq` is still here (or will be appended). */
  canReplayFrom (afterSeq: number): boolean {
    return afterSeq + 1 >= this.#firstSeq
  }

  /** The frames of the events after `afterSeq` still held, in order (a sealed buffer's as one Buffer). */
  framesAfter (afterSeq: number): Buffer[] {
    const skip = Math.max(0, afterSeq + 1 - this.#firstSeq)
    const sealed = this.#sealed
    if (sealed !== undefined) {
      const from = sealed.starts[skip] ?? sealed.bytes.length
      return from < sealed.bytes.length ? [sealed.bytes.subarray(from)] : []
    }
    const frames: Buffer[] = []
    for (let i = this.#head + skip; i < this.#events.length; i++) {
      const { frame } = this.#events[i] as BufferedEvent
      if (frame.length > 0) frames.push(frame)
    }
    return frames
  }

  /** The stream ended: its held frames into one Buffer of their own (not a pool slice, which would pin the pool). */
  #seal (): void {
    const count = this.#events.length - this.#head
    const starts = new Uint32Array(count)
    let length = 0
    for (let i = 0; i < count; i++) {
      starts[i] = length
      length += (this.#events[this.#head + i] as BufferedEvent).frame.length
    }
    const bytes = Buffer.allocUnsafeSlow(length)
    for (let i = 0; i < count; i++) (this.#events[this.#head + i] as BufferedEvent).frame.copy(bytes, starts[i])
    this.#sealed = { bytes, starts }
    this.#events = []
    this.#head = 0
  }

  /** Past the bound: drop the oldest events (every attached reader already has them). */
  #trim (): void {
    this.#resumable = false
    while (this.#head < this.#events.length && this.#appendedEnd - this.#droppedEnd > this.maxBytes) {
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
}
