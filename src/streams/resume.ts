// The rules of finding a stream again (routes/sse-reply.ts applies them): what a
// Last-Event-ID points at, and who may follow a stream.
import type { IncomingHttpHeaders } from 'node:http'
import { parseEventId } from '../sse/format.js'

export interface ResumePoint { streamId: string, afterSeq: number }

/**
 * EventSource's reconnect header; an empty one does not count. The one rule for what
 * makes a request a resume (plugins/route-kind.ts requestedLastEventId).
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
