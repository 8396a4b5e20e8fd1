// Finding a stream again: on this instance (its LiveStream), else through Redis. Returns
// undefined when there is nothing to send (unknown, expired, fully delivered, or no
// longer resumable), which the routes answer with 204: that is what stops EventSource.
import type { IncomingHttpHeaders } from 'node:http'
import type { SequencedEvent } from '../events.js'
import type { StreamHub } from './hub.js'
import type { RedisStreams } from './redis-streams.js'
import { parseEventId } from '../sse/format.js'

export interface ResumePoint { streamId: string, afterSeq: number }

/**
 * EventSource's reconnect header; an empty one does not count. The one rule for what
 * makes a request a resume (routes/converse-stream.ts, security/principal.ts).
 */
export function lastEventIdHeader (headers: IncomingHttpHeaders): string | undefined {
  const header = headers['last-event-id']
  return typeof header === 'string' && header !== '' ? header : undefined
}

/** Last-Event-ID (what EventSource sends) or ?lastEventId= (for fetch clients). */
export function resumePoint (lastEventId: string | undefined): ResumePoint | 'invalid' | undefined {
  if (lastEventId === undefined || lastEventId === '') return undefined
  const parsed = parseEventId(lastEventId)
  return parsed === undefined ? 'invalid' : { streamId: parsed.streamId, afterSeq: parsed.seq }
}

/**
 * A stream started by an authenticated principal is that principal's alone: anyone else
 * is answered as if it did not exist (the id is not confirmed to them).
 */
export function mayAccess (owner: string | undefined, requester: string | undefined): boolean {
  return owner === undefined || owner === requester
}

export async function openReader (
  hub: StreamHub, remote: RedisStreams | undefined, point: ResumePoint, signal: AbortSignal, requester: string | undefined
): Promise<{ model: string, events: AsyncIterable<SequencedEvent> } | undefined> {
  const local = hub.get(point.streamId)
  if (local !== undefined) {
    if (!mayAccess(local.owner, requester)) return undefined
    if (local.ended && point.afterSeq >= local.lastSeq) return undefined
    if (!local.canReplayFrom(point.afterSeq)) return undefined
    return { model: local.model, events: local.read(point.afterSeq, signal) }
  }
  if (remote === undefined || !remote.healthy) return undefined
  const info = await remote.info(point.streamId).catch(() => undefined)
  if (info === undefined || !info.resumable || !mayAccess(info.owner, requester)) return undefined
  if (info.status === 'ended' && point.afterSeq >= info.lastSeq) return undefined
  // A lost stream (its producer died) is still resumed, to its end (issue 7): the reader
  // replays what the client missed, then `error` stream_lost, `usage`, `done`. Those
  // three come after lastSeq, so a client that already has them has nothing left.
  if (!info.alive && point.afterSeq > info.lastSeq) return undefined
  return { model: info.model, events: remote.read(point.streamId, point.afterSeq, signal) }
}
