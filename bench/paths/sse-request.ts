// One HTTP request whose answer is an event stream, parsed with eventsource-parser
// (WHATWG-conformant, as the tests do); each message is handed to the path's reader.
import http from 'node:http'
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import { readStamps, stampClockMs } from '../../src/emulator/index.js'
import type { StreamObserver, StreamOutcome } from './types.js'

// Keep-alive, no socket cap: a browser tab holds its own connection; reusing idle ones
// between streams keeps the client's connect cost out of the figures.
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 2048 })

/** What one message means: text to search for stamps, the end of the stream, or an error. */
export type Reading = { text: string } | { end: true } | { error: string } | undefined

export interface SseRequest {
  url: string
  method?: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: string
  read: (message: EventSourceMessage) => Reading
}

export async function sseRequest (req: SseRequest, observer: StreamObserver, signal: AbortSignal): Promise<StreamOutcome> {
  return await new Promise((resolve) => {
    let outcome: StreamOutcome | undefined
    let ended = false
    const settle = (o: StreamOutcome): void => { outcome ??= o }
    const parser = createParser({
      onEvent (message) {
        const reading = req.read(message)
        if (reading === undefined) return
        if ('text' in reading) {
          const stamps = readStamps(reading.text)
          if (stamps.length > 0) observer.tokens(stamps, at)
        } else if ('end' in reading) ended = true
        else settle({ ok: false, error: reading.error })
      },
    })
    let at = 0
    let first = true
    const request = http.request(req.url, { method: req.method ?? 'GET', headers: req.headers, agent, signal }, (res) => {
      if (res.statusCode !== 200) {
        settle({ ok: false, error: `HTTP ${res.statusCode ?? '?'}` })
        res.resume()
      }
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        at = stampClockMs()
        if (first) { first = false; observer.firstByte(at) }
        parser.feed(chunk)
      })
      res.on('end', () => resolve(outcome ?? (ended ? { ok: true } : { ok: false, error: 'ended without its end marker' })))
      res.on('error', (err) => resolve(outcome ?? { ok: false, error: err.message }))
      res.on('close', () => resolve(outcome ?? (ended ? { ok: true } : { ok: false, error: signal.aborted ? 'aborted at the deadline' : 'connection closed' })))
    })
    request.on('error', (err) => resolve(outcome ?? { ok: false, error: signal.aborted ? 'aborted at the deadline' : err.message }))
    request.end(req.body)
  })
}

export function parseJson (data: string): unknown {
  try { return JSON.parse(data) } catch { return undefined }
}
