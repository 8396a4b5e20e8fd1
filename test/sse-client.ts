// A raw-socket SSE reader for tests that drop a connection mid-stream, the way a flaky
// network or a closed tab does, and keep what was received so far.
import http from 'node:http'
import { parseSse, type SseEvent } from './helper.js'

export interface PartialRead {
  events: SseEvent[]
  /** The `id:` of the last complete event received. */
  lastId: string
}

/** Reads until `until(events)` holds, then destroys the connection. */
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
