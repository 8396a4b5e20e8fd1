// The replay buffer of one stream in the producing process: every relay event with its
// sequence number and its frame (sse/framing.ts), encoded once, kept while the stream runs and for
// the TTL after it ends, so a reconnect resumes without calling Bedrock again. Past
// `maxBytes` it keeps the stream going live but drops the oldest events, and the stream
// can no longer be resumed (its `done` says so).
import { sequenced, type RelayEvent, type SequencedEvent } from '../events.js'
import { frameBytes } from '../sse/frame-bytes.js'
import type { Framing } from '../sse/framing.js'

/** `end`: bytes of JSON appended up to and including this event; `frame`: its SSE frame. */
export interface BufferedEvent extends SequencedEvent { end: number, frame: Buffer }

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

  readonly #framing: Framing

  constructor (streamId: string, maxBytes: number, framing: Framing) {
    this.streamId = streamId
    this.maxBytes = maxBytes
    this.#framing = framing
  }

  get lastSeq (): number { return this.#firstSeq + this.#events.length - this.#head - 1 }
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
    return entry
  }

  /** True when every event after `afterSeq` is still here (or will be appended). */
  canReplayFrom (afterSeq: number): boolean {
    return afterSeq + 1 >= this.#firstSeq
  }

  /** The events after `afterSeq` still held, in order. */
  * after (afterSeq: number): Generator<BufferedEvent, void, undefined> {
    for (let i = this.#head + Math.max(0, afterSeq + 1 - this.#firstSeq); i < this.#events.length; i++) {
      yield this.#events[i] as BufferedEvent
    }
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
