// Relay events -> the bytes of a text/event-stream body, as a Readable that Fastify
// pipes to the socket. Readable.from pulls one frame at a time and only while the
// socket accepts more, so a slow reader stops the pulls from Bedrock (bounded memory:
// highWaterMark frames here, plus the socket's own buffer).
import { Readable } from 'node:stream'
import type { RelayEvent } from '../events.js'
import { withHeartbeat } from './heartbeat.js'
import { eventId, formatComment, formatEvent } from './format.js'

/** Headers for every SSE answer (FIELD-NOTES 16): no caching, no proxy buffering, no transforms. */
export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
} as const

export async function * toSseFrames (events: AsyncIterable<RelayEvent>, streamId: string): AsyncGenerator<string, void, undefined> {
  let seq = 0
  for await (const event of events) {
    seq += 1
    yield formatEvent({ id: eventId(streamId, seq), event: event.type, data: event.data })
  }
}

export function toEventStream (events: AsyncIterable<RelayEvent>, streamId: string, heartbeatMs: number): Readable {
  const frames = withHeartbeat(toSseFrames(events, streamId), heartbeatMs, () => formatComment('ping'))
  return Readable.from(frames, { objectMode: false, highWaterMark: 16 * 1024 })
}
