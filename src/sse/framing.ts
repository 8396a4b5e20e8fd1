// How one stream's relay events are written on the wire. The pipeline is the same for
// every surface (admission, the upstream call, cancellation, the replay buffer, the
// accounting); a surface differs only in its framing: the native event stream
// (`event: text` + JSON, with resumable ids), OpenAI's chat.completion.chunk lines, the
// AI SDK's UI message stream. A framing is made per stream and may keep state (which
// content blocks are open); the replay buffer calls it once per event, in order, and
// keeps the bytes, so every reader and every replay get the same frames.
import type { RelayEvent } from '../events.js'
import { eventId } from './format.js'

export interface Framing {
  /** The bytes for one event ('' when this framing has nothing to write for it). `json` is JSON.stringify(event.data). */
  frame: (seq: number, event: RelayEvent, json: string) => string
}

export type FramingFactory = (stream: { streamId: string, model: string }) => Framing

/** The native event stream (README "Events"): the id carries the stream, for Last-Event-ID. */
export const nativeFraming: FramingFactory = ({ streamId }) => new NativeFraming(streamId)

// A class, not an object literal with an arrow: every stream holds its framing, and a
// method on the prototype costs it no closure (issue 10).
class NativeFraming implements Framing {
  readonly #streamId: string
  constructor (streamId: string) { this.#streamId = streamId }

  // JSON.stringify escapes CR and LF, so model text cannot forge a field (FIELD-NOTES 15).
  frame (seq: number, event: RelayEvent, json: string): string {
    return `id: ${eventId(this.#streamId, seq)}\nevent: ${event.type}\ndata: ${json}\n\n`
  }
}

/** One `data:` line of JSON, as OpenAI's and the AI SDK's streams write every chunk. */
export function dataLine (value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`
}
