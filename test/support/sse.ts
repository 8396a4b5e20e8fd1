// Reading SSE answers in the middle: a raw-socket reader that drops the connection once
// enough arrived (a flaky network, a closed tab), a reader that takes events one by one
// while the response is still open, and typed access to event data.
import http from 'node:http'
import { createParser } from 'eventsource-parser'
import type { RelayEvent, RelayEventType } from '../../src/events.js'
import { parseSse, type SseEvent } from '../helper.js'

/** The data of a relay event of type `T`, as the README's event table describes it. */
export type DataOf<T extends RelayEventType> = Extract<RelayEvent, { type: T }>['data']

/** The data of `event`, typed by its name; throws (with what came instead) when it is another kind. */
export function dataOf<T extends RelayEventType> (event: SseEvent | undefined, type: T): DataOf<T> {
  if (event?.event !== type) throw new Error(`expected a ${type} event, got ${event === undefined ? 'none' : event.event}`)
  return event.data as DataOf<T>
}

/** The stream id announced by the `start` event at the head of `events`. */
export function streamIdOf (events: SseEvent[]): string {
  return dataOf(events[0], 'start').streamId
}

/** The sequence number in an event's `id:` (`<streamId>-<seq>`). */
export function seqOf (event: SseEvent | undefined): number {
  return Number(event?.id?.split('-')[1])
}

export interface PartialRead {
  events: SseEvent[]
  /** The `id:` of the last complete event received. */
  lastId: string
}

/** Reads on a raw socket until `until(events)` holds, then destroys the connection. */
export async function readThenDrop (url: string, until: (events: SseEvent[]) => boolean, init: { method?: string, body?: string, headers?: Record<string, string> } = {}): Promise<PartialRead> {
  return await new Promise<PartialRead>((resolve, reject) => {
    const req = http.request(url, {
      method: init.method ?? 'GET',
      headers: { ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
    }, (res) => {
      let raw = ''
      res.on('data', (chunk: Buffer) => {
        raw += chunk.toString('utf8')
        // Only complete events (up to the last blank line) count as received.
        const complete = raw.slice(0, raw.lastIndexOf('\n\n') + 2)
        const { events } = parseSse(complete)
        if (until(events)) {
          req.destroy()
          resolve({ events, lastId: events.at(-1)?.id ?? '' })
        }
      })
      res.on('error', () => {})
      res.on('end', () => reject(new Error('stream ended before the condition held')))
    })
    req.on('error', () => {})
    req.end(init.body)
  })
}

export const countText = (n: number) => (events: SseEvent[]): boolean => events.filter(e => e.event === 'text').length >= n

export interface OpenStream {
  status: number
  headers: Headers
  /** The next event, or undefined once the response has ended. */
  next: () => Promise<SseEvent | undefined>
  /** Every event still to come, until the response ends. */
  rest: () => Promise<SseEvent[]>
  /** Waits for the event named `name` and returns it (the events before it are kept in `seen`). */
  until: (name: string) => Promise<SseEvent>
  seen: SseEvent[]
  close: () => void
}

/** Reads an SSE response event by event while it is still open, so a test can act in the middle of it. */
export async function openStream (url: string, init: RequestInit = {}): Promise<OpenStream> {
  const controller = new AbortController()
  const res = await fetch(url, { ...init, signal: AbortSignal.any([controller.signal, AbortSignal.timeout(30_000)]) })
  const queue: SseEvent[] = []
  const seen: SseEvent[] = []
  const parser = createParser({
    onEvent (message) { queue.push({ id: message.id, event: message.event ?? 'message', data: JSON.parse(message.data) }) },
  })
  if (res.body === null) throw new Error(`no body (status ${res.status})`)
  const reader = res.body.getReader()
  const decoder = new TextDecoder()
  let ended = false
  const next = async (): Promise<SseEvent | undefined> => {
    while (queue.length === 0 && !ended) {
      const chunk = await reader.read()
      if (chunk.done) ended = true
      else parser.feed(decoder.decode(chunk.value, { stream: true }))
    }
    const event = queue.shift()
    if (event !== undefined) seen.push(event)
    return event
  }
  return {
    status: res.status,
    headers: res.headers,
    next,
    seen,
    rest: async () => {
      const events: SseEvent[] = []
      for (let e = await next(); e !== undefined; e = await next()) events.push(e)
      return events
    },
    until: async (name: string) => {
      for (let e = await next(); e !== undefined; e = await next()) if (e.event === name) return e
      throw new Error(`the stream ended without a ${name} event (saw ${seen.map(e => e.event).join(', ')})`)
    },
    close: () => controller.abort(),
  }
}
