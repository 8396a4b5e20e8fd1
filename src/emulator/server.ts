// The emulator: routing, the request log, and the scenario queue on top of the h1/h2c transport.
import { EventEmitter } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2'
import type { AddressInfo } from 'node:net'
import { planConverse } from './converse.js'
import { playConverse, playStream, sendHttpError, type Finish } from './play.js'
import { defaultResponder } from './responder.js'
import { checkScenario, type Scenario } from './scenario.js'
import { checkSigV4 } from './sigv4.js'
import { SendLog } from './stamp.js'
import { ResponseSink, type Protocol } from './sink.js'
import { createDualServer } from './transport.js'
import { validateConverseInput } from './validate.js'
import type { Emulator, EmulatorOptions, EmulatorRequest, Operation, Outcome, Responder } from './types.js'

const DEFAULT_FRAME_DELAY_MS = 20
const DEFAULT_WAIT_MS = 5000
// Matched on the raw path: the SDK percent-encodes `:` and `/` inside the model id (ARNs).
const MODEL_PATH = /^\/model\/([^/]+)\/(converse-stream|converse)$/

async function readBody (req: IncomingMessage | Http2ServerRequest): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

function parseJson (text: string): { ok: true, value: unknown } | { ok: false } {
  try { return { ok: true, value: text === '' ? {} : JSON.parse(text) } } catch { return { ok: false } }
}

export async function startEmulator (opts: EmulatorOptions = {}): Promise<Emulator> {
  const host = opts.host ?? '127.0.0.1'
  const frameDelayMs = opts.frameDelayMs ?? DEFAULT_FRAME_DELAY_MS
  const logger = opts.logger
  let responder: Responder = opts.responder ?? defaultResponder
  const queue: Scenario[] = []
  const promptCache = new Set<string>()
  const validate = opts.validate ?? true
  const requests: EmulatorRequest[] = []
  const changes = new EventEmitter().setMaxListeners(0)
  let nextId = 1
  // Calls answered in part and not ended: what /health reports as `open` (the benchmark
  // counts the upstream calls a server holds with it, whatever connections they share).
  let open = 0
  // When each /stamped token left over HTTP/2 (stamp.ts): the benchmark measures from then.
  const sendLog = new SendLog()
  // Which connection each request came on (an HTTP/1.1 socket, or an HTTP/2 session): a
  // client's connection reuse shows in the request log.
  const connections = new WeakMap<object, number>()
  let nextConnection = 1
  const connectionOf = (req: IncomingMessage | Http2ServerRequest): number => {
    const key: object = 'stream' in req ? req.stream.session ?? req.stream : req.socket
    let n = connections.get(key)
    if (n === undefined) connections.set(key, n = nextConnection++)
    return n
  }

  async function handleModelCall (sink: ResponseSink, req: IncomingMessage | Http2ServerRequest,
    protocol: Protocol, operation: Operation, encodedModelId: string): Promise<void> {
    const id = nextId++
    const connection = connectionOf(req)
    const startedAt = Date.now()
    let raw: string
    try { raw = await readBody(req) } catch { return } // client left while sending the body
    let modelId = encodedModelId
    try { modelId = decodeURIComponent(encodedModelId) } catch {}
    const refusal = opts.credentials !== undefined ? await checkSigV4(req, raw, opts.credentials) : undefined
    const parsed = parseJson(raw)
    const record: EmulatorRequest = {
      id, operation, modelId, protocol, connection, body: parsed.ok ? parsed.value : raw, outcome: 'pending', startedAt, frames: 0,
    }
    // Read live: backpressure tests watch it stop while the client reads nothing.
    Object.defineProperty(record, 'frames', { get: () => sink.writes, enumerable: true })
    requests.push(record)
    open++
    changes.emit('change')
    const settle = (outcome: Exclude<Outcome, 'pending'>): void => {
      if (record.outcome !== 'pending') return
      open--
      record.outcome = outcome
      record.endedAt = Date.now()
      logger?.info({ id, operation, modelId, protocol, outcome, ms: record.endedAt - startedAt }, 'emulator request')
      changes.emit('change')
    }
    sink.onClose(() => settle('aborted'))
    // AWS authenticates the request before it reads it.
    if (refusal !== undefined) {
      settle('error')
      return sendHttpError(sink, refusal.status, refusal.type, refusal.message)
    }
    if (!parsed.ok) {
      settle('error')
      return sendHttpError(sink, 400, 'ValidationException', 'Request body is not valid JSON')
    }
    // Bedrock checks the request before any model runs; a queued scenario is not used then.
    const invalid = validate ? validateConverseInput(record.body) : undefined
    if (invalid !== undefined) {
      settle('error')
      return sendHttpError(sink, 400, 'ValidationException', invalid)
    }
    const finish = (f: Finish): void => settle(f)
    try {
      const scenario = queue.shift() ?? await responder({ id, operation, modelId, body: record.body, promptCache })
      checkScenario(scenario)
      if (operation === 'converse') await playConverse(sink, planConverse(scenario, frameDelayMs), finish)
      else await playStream(sink, scenario, frameDelayMs, finish, sendLog)
    } catch (err) {
      // A malformed scenario or a failing responder: the test author needs to see it in the log.
      logger?.warn({ id, err }, 'emulator scenario failed')
      settle('error')
      if (sink.headersSent) sink.reset()
      else sendHttpError(sink, 500, 'InternalServerException', 'Emulator scenario failed')
    }
  }

  function handle (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse, protocol: Protocol): void {
    const sink = new ResponseSink(res, protocol)
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    const match = MODEL_PATH.exec(path)
    if (req.method === 'POST' && match?.[1] !== undefined) {
      handleModelCall(sink, req, protocol, match[2] as Operation, match[1])
        .catch((err: unknown) => logger?.warn({ err }, 'emulator request failed'))
    } else if (req.method === 'GET' && path === '/health') {
      sink.head(200, { 'content-type': 'application/json' })
      sink.end(JSON.stringify({ ok: true, open }))
    } else if (req.method === 'GET' && path === '/sent') {
      // ?since=MS: [stamp, ms it waited here, ...] for the /stamped tokens written over HTTP/2.
      const since = Number(new URLSearchParams((req.url ?? '').split('?')[1] ?? '').get('since') ?? 0)
      sink.head(200, { 'content-type': 'application/json' })
      sink.end(JSON.stringify({ pairs: sendLog.since(Number.isFinite(since) ? since : 0) }))
    } else {
      sendHttpError(sink, 404, 'UnknownOperationException', `No route for ${req.method ?? '?'} ${path}`)
    }
  }

  /** Resolves with check()'s first defined value, re-checked on every log change. */
  function waitFor<T> (check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const now = check()
      if (now !== undefined) return resolve(now)
      const onChange = (): void => {
        const value = check()
        if (value === undefined) return
        cleanup()
        resolve(value)
      }
      const timer = setTimeout(() => {
        cleanup()
        reject(new Error(`emulator: timed out after ${timeoutMs} ms waiting for ${what}`))
      }, timeoutMs)
      const cleanup = (): void => { clearTimeout(timer); changes.off('change', onChange) }
      changes.on('change', onChange)
    })
  }

  const dual = createDualServer(handle, (err) => logger?.warn({ err }, 'emulator connection error'), opts.h2MaxConcurrentStreams)
  await new Promise<void>((resolve, reject) => {
    dual.server.once('error', reject)
    dual.server.listen(opts.port ?? 0, host, () => { dual.server.off('error', reject); resolve() })
  })
  const port = (dual.server.address() as AddressInfo).port
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`

  return {
    url,
    port,
    requests,
    enqueue: (...scenarios) => {
      // Checked here too, so a malformed scenario fails where the test enqueues it.
      for (const scenario of scenarios) checkScenario(scenario)
      queue.push(...scenarios)
    },
    setResponder: (fn) => { responder = fn },
    waitForRequests: (count, timeoutMs = DEFAULT_WAIT_MS) =>
      waitFor(() => (requests.length >= count ? [...requests] : undefined), timeoutMs, `${count} request(s)`),
    waitForOutcome: (id, timeoutMs = DEFAULT_WAIT_MS) => waitFor(() => {
      const outcome = requests.find((r) => r.id === id)?.outcome
      return outcome === 'pending' ? undefined : outcome
    }, timeoutMs, `the outcome of request ${id}`),
    reset: () => {
      queue.length = 0
      requests.length = 0
      promptCache.clear()
      nextId = 1
      changes.emit('change')
    },
    close: async () => {
      await dual.close()
      // Streams learn of their destroyed sockets a tick or two later; let outcomes settle (bounded).
      await waitFor(() => (requests.every((r) => r.outcome !== 'pending') ? true : undefined), 1000, 'outcomes')
        .catch(() => {})
    },
  }
}
