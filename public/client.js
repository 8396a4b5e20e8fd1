// The browser client of bedrock-sse-proxy: an ES module with no dependencies and no build
// step (types in client.d.ts). The demo page uses it; an app imports it from the package
// (`bedrock-sse-proxy/client`) or copies the file.
//
//   POST (default): fetch with a streaming reader; takes `messages` and an Authorization
//     header. A dropped connection is resumed from the last event id on
//     GET /v1/streams/{id} (Last-Event-ID header): no gap, no duplicate, no second
//     Bedrock call.
//   GET: EventSource (with a ticket when the server has keys); it resumes by itself with
//     Last-Event-ID. Closed on `done`, or it would reconnect into a finished stream
//     (FIELD-NOTES 14).
// The event contract is the README's "Events" (src/events.ts).

/** Every event type the proxy sends, in contract order. */
export const EVENT_TYPES = ['start', 'text', 'reasoning', 'tool_use', 'tool_input', 'citation', 'delta', 'block_stop', 'stop', 'usage', 'error', 'done']
const KNOWN = new Set(EVENT_TYPES)
// Waits between resume attempts after a dropped connection (then the stream is lost).
const RESUME_DELAYS_MS = [250, 1000, 2000, 4000]
// After a 202 to the DELETE the server ends the stream with `error` cancelled, a partial
// `usage` and `done`; how long cancel() keeps reading for them.
const CANCEL_DRAIN_MS = 3000
// A Stop before the `start` event waits this long for it (the server sends it as soon as it
// accepts the request), so that it can still name the stream and cancel its upstream call.
const CANCEL_START_WAIT_MS = 5000

/** An error before or instead of a stream: a refusal (HTTP status + JSON body) or a lost connection. */
export class StreamError extends Error {
  constructor ({ code, message, status, retryable, retryAfterMs, resetAt }) {
    super(message)
    this.name = 'StreamError'
    this.code = code
    this.status = status
    this.retryable = retryable
    this.retryAfterMs = retryAfterMs
    this.resetAt = resetAt
  }
}

// HTTP statuses whose refusals are worth retrying (the catalogue's retryable codes answer these).
const RETRYABLE_STATUS = new Set([408, 429, 502, 503, 504])

/**
 * A WHATWG event-stream parser: lines end in CRLF, LF or a lone CR (even split across
 * chunks); `data:` lines join with LF; comments (`: ping`) and unknown fields are
 * ignored; the last event id carries over; an event without data is not dispatched.
 * `onMessage({ type, data, id })` gets `data` as text.
 */
export function createSseParser (onMessage) {
  let pending = ''
  let skipLf = false // the previous chunk ended in CR: an LF starting this one ends no line
  let atStart = true
  let type = ''
  let data = []
  let lastId = ''

  function dispatch () {
    if (data.length > 0) onMessage({ type: type === '' ? 'message' : type, data: data.join('\n'), id: lastId })
    type = ''
    data = []
  }

  function line (text) {
    if (text === '') return dispatch()
    if (text[0] === ':') return
    const colon = text.indexOf(':')
    const field = colon === -1 ? text : text.slice(0, colon)
    let value = colon === -1 ? '' : text.slice(colon + 1)
    if (value[0] === ' ') value = value.slice(1)
    if (field === 'event') type = value
    else if (field === 'data') data.push(value)
    else if (field === 'id' && !value.includes('\u0000')) lastId = value
  }

  return {
    feed (chunk) {
      let text = chunk
      if (atStart && text.length > 0) {
        atStart = false
        if (text[0] === '\uFEFF') text = text.slice(1)
      }
      if (skipLf && text[0] === '\n') text = text.slice(1)
      if (text.length > 0) skipLf = false
      const all = pending + text
      let from = 0
      for (let i = 0; i < all.length; i++) {
        const c = all[i]
        if (c !== '\n' && c !== '\r') continue
        line(all.slice(from, i))
        if (c === '\r') {
          if (i + 1 === all.length) skipLf = true
          else if (all[i + 1] === '\n') i++
        }
        from = i + 1
      }
      pending = all.slice(from)
    },
    /** The id of the last event seen (what Last-Event-ID carries on a resume). */
    get lastEventId () { return lastId },
  }
}

function authHeaders (opts) {
  return { ...(opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {}), ...opts.headers }
}

function endpoint (opts) {
  const base = globalThis.location?.href
  return new URL(opts.url ?? '/v1/converse-stream', base)
}

// `/v1/converse-stream` -> `/v1/streams/{id}` (and `/v1/tickets`, `/v1/models`): siblings of the stream route.
function sibling (opts, path) {
  return new URL(path, endpoint(opts))
}

async function refusal (res) {
  const body = await res.json().catch(() => null)
  const error = body !== null && typeof body === 'object' && body.error ? body.error : {}
  const header = Number(res.headers.get('retry-after'))
  return new StreamError({
    code: typeof error.code === 'string' ? error.code : `http_${res.status}`,
    message: typeof error.message === 'string' ? error.message : `The server answered HTTP ${res.status}.`,
    status: res.status,
    retryable: RETRYABLE_STATUS.has(res.status),
    retryAfterMs: typeof error.retryAfterMs === 'number' ? error.retryAfterMs : Number.isFinite(header) && header > 0 ? header * 1000 : undefined,
    resetAt: typeof error.resetAt === 'string' ? error.resetAt : undefined,
  })
}

/** POST /v1/tickets with the key: a single-use ticket for one EventSource URL (bound to `query` when given). */
export async function mintTicket (opts) {
  const res = await fetch(sibling(opts, 'tickets'), {
    method: 'POST',
    headers: { ...authHeaders(opts), 'content-type': 'application/json' },
    body: JSON.stringify(opts.query ? { query: opts.query } : {}),
  })
  if (!res.ok) throw await refusal(res)
  return (await res.json()).ticket
}

/** GET /v1/models: the model ids this server accepts, its default first. */
export async function listModels (opts = {}) {
  const res = await fetch(sibling(opts, 'models'), { headers: authHeaders(opts) })
  if (!res.ok) throw await refusal(res)
  const body = await res.json()
  return Array.isArray(body?.data) ? body.data.map((m) => m.id).filter((id) => typeof id === 'string') : []
}

/** Starts a stream: POST (fetch reader) by default, GET (EventSource) with `method: 'GET'`. */
export function streamConverse (opts) {
  return new ConverseStream(opts, opts.method === 'GET' ? 'eventsource' : 'fetch')
}

/** Follows a stream by id (a reloaded page, a second tab): replays from the start (or after `lastEventId`), then live. */
export function followStream (opts) {
  return new ConverseStream({ ...opts, follow: opts.streamId }, opts.transport === 'fetch' ? 'fetch' : 'eventsource')
}

class ConverseStream {
  constructor (opts, transport) {
    this.opts = opts
    this.streamId = opts.follow
    this.lastEventId = opts.lastEventId
    this.state = 'connecting'
    this.startedAt = Date.now()
    this.firstTokenMs = undefined
    this.summary = { stopReason: undefined, usage: undefined, error: undefined, done: undefined }
    this.queue = []
    this.wake = null
    this.ended = false
    this.controller = new AbortController()
    this.result = new Promise((resolve, reject) => { this.settle = { resolve, reject } })
    this.result.catch(() => {}) // the caller may read it, the iterator, or both
    // Settles at the `start` event or at the end, whichever comes first (cancel() waits on it).
    this.startedOrEnded = new Promise((resolve) => { this.markStarted = resolve })
    if (opts.signal) {
      if (opts.signal.aborted) queueMicrotask(() => this.cancel({ drain: false }))
      else opts.signal.addEventListener('abort', () => this.cancel({ drain: false }), { once: true })
    }
    const run = transport === 'fetch' ? this.#runFetch() : this.#runEventSource()
    run.catch((err) => this.#fail(err instanceof StreamError ? err : lost(String(err?.message ?? err))))
  }

  #setState (state) {
    if (this.state === state) return
    this.state = state
    this.opts.onState?.(state)
  }

  #emit (type, json, id) {
    if (this.ended || !KNOWN.has(type)) return // a newer server's event types are skipped
    let data
    try { data = JSON.parse(json) } catch { return }
    if (id) this.lastEventId = id
    const event = { type, data, id }
    if (type === 'start') {
      this.streamId = data.streamId
      this.markStarted()
    }
    if ((type === 'text' || type === 'reasoning' || type === 'tool_use') && this.firstTokenMs === undefined) this.firstTokenMs = Date.now() - this.startedAt
    if (type === 'stop') this.summary.stopReason = data.stopReason
    if (type === 'usage') this.summary.usage = data
    if (type === 'error') this.summary.error = data
    this.#setState('streaming')
    this.opts.onEvent?.(event)
    this.#push(event)
    if (type === 'done') {
      this.summary.done = data
      this.#finish()
      this.settle.resolve({ ...this.summary, streamId: this.streamId, firstTokenMs: this.firstTokenMs })
    }
  }

  #push (event) {
    this.queue.push(event)
    this.wake?.()
  }

  #finish (state = 'done') {
    this.ended = true
    this.markStarted()
    this.#setState(state)
    this.controller.abort()
    this.es?.close()
    this.wake?.()
  }

  #fail (error) {
    if (this.ended) return
    this.failure = error
    this.#finish(this.closedByUser ? 'closed' : 'failed')
    this.settle.reject(error)
  }

  async #runFetch () {
    const opts = this.opts
    let failures = 0
    for (;;) {
      const resuming = this.streamId !== undefined
      const url = resuming ? sibling(opts, `streams/${encodeURIComponent(this.streamId)}`) : endpoint(opts)
      const init = resuming
        ? { headers: { ...authHeaders(opts), ...(this.lastEventId ? { 'last-event-id': this.lastEventId } : {}) } }
        : { method: 'POST', headers: { ...authHeaders(opts), 'content-type': 'application/json' }, body: JSON.stringify(requestBody(opts)) }
      let res
      try {
        res = await fetch(url, { ...init, signal: this.controller.signal })
        if (res.status === 204) throw new StreamError({ code: 'stream_gone', message: 'The stream can no longer be resumed (it ended, or expired).', retryable: true, status: 204 })
        if (!res.ok) throw await refusal(res)
        const parser = createSseParser((m) => this.#emit(m.type, m.data, m.id))
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
        for (;;) {
          const { done, value } = await reader.read()
          if (done || this.ended) break
          parser.feed(value)
          failures = 0
        }
      } catch (err) {
        if (this.ended) return
        if (err instanceof StreamError) throw err
        // A network error: fall through to resume.
      }
      if (this.ended) return
      // The response ended without `done`, or the network failed: resume where it left off.
      if (this.streamId === undefined) throw lost('The connection closed before the stream started.')
      const delay = RESUME_DELAYS_MS[failures++]
      if (delay === undefined) throw lost('The connection was lost and could not be resumed.')
      this.#setState('resuming')
      await sleep(delay, this.controller.signal)
      if (this.ended) return
    }
  }

  async #runEventSource () {
    const opts = this.opts
    const url = this.streamId !== undefined ? sibling(opts, `streams/${encodeURIComponent(this.streamId)}`) : endpoint(opts)
    const query = this.streamId !== undefined
      ? (this.lastEventId ? { lastEventId: this.lastEventId } : {})
      : stringQuery(requestBody(opts))
    const ticket = typeof opts.ticket === 'function' ? await opts.ticket(query) : opts.ticket ?? (opts.apiKey ? await mintTicket({ ...opts, query }) : undefined)
    if (this.ended) return
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value)
    if (ticket !== undefined) url.searchParams.set('ticket', ticket)
    const Source = opts.EventSource ?? globalThis.EventSource
    const es = new Source(url.href)
    this.es = es
    for (const type of EVENT_TYPES) {
      es.addEventListener(type, (ev) => {
        // EventSource fires `error` for its own connection errors too (a plain Event).
        if (type === 'error' && typeof ev.data !== 'string') return this.#onEventSourceError(es)
        this.#emit(type, ev.data, ev.lastEventId)
      })
    }
  }

  #onEventSourceError (es) {
    if (this.ended) return
    // CONNECTING: EventSource retries by itself, sending Last-Event-ID.
    if (es.readyState === 0) return this.#setState(this.lastEventId ? 'resuming' : 'connecting')
    // CLOSED: a non-200 answer (EventSource does not say which) or 204 (nothing to resume).
    if (this.lastEventId) return this.#fail(lost('The connection was lost and the stream could not be resumed.'))
    this.#fail(this.opts.follow !== undefined
      ? new StreamError({ code: 'stream_gone', message: 'The stream cannot be followed: it ended and expired, or the server refused (EventSource does not say which).', retryable: true })
      : new StreamError({ code: 'request_refused', message: 'The server refused the request (EventSource does not expose the reason; POST shows it).', retryable: false }))
  }

  /** Stops reading here, without telling the server (it cancels after RESUME_GRACE_MS unless someone resumes). */
  close () {
    if (this.ended) return
    this.closedByUser = true
    this.#fail(new StreamError({ code: 'closed', message: 'Closed by the client.', retryable: false }))
  }

  /**
   * Stop: DELETE /v1/streams/{id}, and report what the server answered:
   * `cancelling` (202: the upstream call is aborted), `ended` (200: it had finished),
   * `refused` (an error, in `error`; the call then ends by itself after RESUME_GRACE_MS),
   * `unreachable`, or `not_started` (the stream ended, or 5 s passed, before its `start` event:
   * nothing to name). Called before `start`, it waits for it first.
   * After `cancelling` it keeps reading briefly for the final events (partial usage, `done`).
   */
  async cancel ({ drain = true } = {}) {
    if (this.cancelling) return this.cancelling
    this.cancelling = this.#cancel(drain)
    return this.cancelling
  }

  async #cancel (drain) {
    // Pressed before the server named the stream: its name is on the way (the server sends
    // `start` before it calls Bedrock), and without it the call would run on until the
    // grace period; wait for it, unless the stream ends first (refused, failed).
    if (this.streamId === undefined && !this.ended) {
      const waited = new AbortController()
      await Promise.race([this.startedOrEnded, sleep(CANCEL_START_WAIT_MS, waited.signal)])
      waited.abort() // clears the timer
    }
    if (this.streamId === undefined) {
      this.close()
      return { status: 'not_started' }
    }
    let outcome
    try {
      const res = await fetch(sibling(this.opts, `streams/${encodeURIComponent(this.streamId)}`), { method: 'DELETE', headers: authHeaders(this.opts) })
      if (res.status === 202 || res.status === 200) {
        await res.body?.cancel()
        outcome = { status: res.status === 202 ? 'cancelling' : 'ended', httpStatus: res.status }
      } else {
        const error = await refusal(res)
        outcome = { status: 'refused', httpStatus: res.status, error: { code: error.code, message: error.message, retryAfterMs: error.retryAfterMs } }
      }
    } catch {
      outcome = { status: 'unreachable', error: { code: 'network_error', message: 'The cancel request did not reach the server.' } }
    }
    if (outcome.status === 'cancelling' && drain && !this.ended) {
      await Promise.race([this.result.catch(() => {}), sleep(CANCEL_DRAIN_MS)])
    }
    this.close()
    return outcome
  }

  async * [Symbol.asyncIterator] () {
    for (;;) {
      if (this.queue.length > 0) {
        yield this.queue.shift()
        continue
      }
      if (this.ended) {
        if (this.failure && !this.closedByUser) throw this.failure
        return
      }
      await new Promise((resolve) => { this.wake = resolve })
      this.wake = null
    }
  }
}

function lost (message) {
  return new StreamError({ code: 'connection_lost', message, retryable: true })
}

function requestBody (opts) {
  const body = {}
  for (const name of ['prompt', 'messages', 'model', 'system', 'maxTokens', 'temperature', 'topP', 'stopSequences', 'toolConfig', 'reasoning']) {
    if (opts[name] !== undefined && opts[name] !== '') body[name] = opts[name]
  }
  return body
}

function stringQuery (body) {
  if (body.messages !== undefined) throw new TypeError('GET takes a `prompt`; send `messages` with POST.')
  return Object.fromEntries(Object.entries(body).map(([name, value]) => [name, String(value)]))
}

function sleep (ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener('abort', () => { clearTimeout(timer); resolve() }, { once: true })
  })
}
