// Relay events -> the bytes of a text/event-stream body, as a Readable that Fastify
// pipes to the socket. Readable.from pulls one frame at a time and only while the
// socket accepts more, so a slow reader stops the pulls from Bedrock (bounded memory:
// highWaterMark frames here, plus the socket's own buffer).
import { Readable } from 'node:stream'
import { ProxyError } from '../errors.js'
import type { RelayEvent, SequencedEvent } from '../events.js'
import type { Framing } from './framing.js'
import { withHeartbeat } from './heartbeat.js'
import { eventId, formatComment, formatEvent, formatEventJson } from './format.js'

/** Headers for every SSE answer (FIELD-NOTES 16): no caching, no proxy buffering, no transforms. */
export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
} as const

export async function * toSseFrames (
  events: AsyncIterable<SequencedEvent>, streamId: string, onDefect: (err: unknown) => void = () => {}, framing?: Framing
): AsyncGenerator<string, void, undefined> {
  let last = 0
  try {
    for await (const { seq, type, json } of events) {
      last = seq
      if (framing === undefined) {
        yield formatEventJson(eventId(streamId, seq), type, json)
        continue
      }
      // Another surface's framing (the AI SDK's) works on the event itself.
      const frame = framing.frame(seq, { type, data: JSON.parse(json) } as RelayEvent, json)
      if (frame !== '') yield frame
    }
  } catch (err) {
    onDefect(err)
    // A defect in a reader: the headers are out, so the client still gets the truth in
    // the stream itself rather than a cut connection.
    const data = new ProxyError('internal').toEventData()
    if (framing !== undefined) {
      yield framing.frame(last + 1, { type: 'error', data }, JSON.stringify(data)) + framing.frame(last + 2, { type: 'done', data: {} }, '{}')
      return
    }
    yield formatEvent({ id: eventId(streamId, last + 1), event: 'error', data })
    yield formatEvent({ id: eventId(streamId, last + 2), event: 'done', data: {} })
  }
}

const PING = formatComment('ping')

export function toEventStream (
  events: AsyncIterable<SequencedEvent>, streamId: string, heartbeatMs: number, onDefect?: (err: unknown) => void, onPing?: () => void, framing?: Framing
): Readable {
  const ping = onPing === undefined ? () => PING : () => { onPing(); return PING }
  const frames = withHeartbeat(toSseFrames(events, streamId, onDefect, framing), heartbeatMs, ping)
  return Readable.from(frames, { objectMode: false, highWaterMark: 16 * 1024 })
}
