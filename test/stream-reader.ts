// Reads an SSE response event by event while it is still open, so a test can act in the
// middle of a stream (Stop it, shut the server down) and see what arrived before what.
import { createParser } from 'eventsource-parser'
import type { SseEvent } from './helper.js'

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
