// The Bedrock Runtime client. Credentials come from the SDK's default chain (env keys,
// profile, SSO, container and instance roles, AWS_BEARER_TOKEN_BEDROCK) and never
// leave this process.
import { Agent as HttpAgent } from 'node:http'
import type { ClientHttp2Session, ClientHttp2Stream } from 'node:http2'
import { Agent as HttpsAgent } from 'node:https'
import { BedrockRuntimeClient, type BedrockRuntimeClientConfig } from '@aws-sdk/client-bedrock-runtime'
import { NodeHttp2Handler, NodeHttpHandler } from '@smithy/node-http-handler'
import type { HttpRequest, HttpResponse } from '@smithy/core/protocols'
import type { HttpHandlerOptions } from '@smithy/types'
import { DEFAULTS } from '../config/defaults.js'
import { callDirectly } from './converse-call.js'
import { eventStreamSerdeProvider, exposeUpstreamStreams } from './upstream-stream.js'

export interface BedrockClientOptions {
  region: string | undefined
  endpoint: string | undefined
  bedrockHttp: 'http1' | 'http2' | 'http2-shared'
  /** http2-shared: calls at once on one connection (default: the config's, BEDROCK_HTTP2_STREAMS_PER_CONNECTION). */
  http2StreamsPerConnection?: number
  /** http2-shared: a connection that does not answer a PING within this is closed (default 10 s). */
  http2PingTimeoutMs?: number
  /** direct (default): ConverseStream calls skip the SDK's per-call pipeline (converse-call.ts); sdk: client.send. */
  bedrockCalls?: 'direct' | 'sdk'
}

// Idle pooled connections are closed after this; Bedrock's own idle limit is longer.
const KEEP_ALIVE_MS = 30_000

/** @param overrides SDK settings on top (tests: the emulator's dummy credentials, retries). */
export function createBedrockClient (opts: BedrockClientOptions, overrides: BedrockRuntimeClientConfig = {}): BedrockRuntimeClient {
  const client = new BedrockRuntimeClient({
    // undefined lets the SDK read the profile's region (AWS_PROFILE, ~/.aws/config).
    ...(opts.region !== undefined ? { region: opts.region } : {}),
    ...(opts.endpoint !== undefined ? { endpoint: opts.endpoint } : {}),
    ...(opts.bedrockHttp === 'http1' ? { requestHandler: keepAliveHandler() } : {}),
    ...(opts.bedrockHttp === 'http2-shared' ? { requestHandler: new SharedHttp2Handler(opts.http2StreamsPerConnection ?? DEFAULTS.http2StreamsPerConnection, opts.http2PingTimeoutMs ?? PING_TIMEOUT_MS) } : {}),
    // Response event streams decoded synchronously, for the relay's fast path (upstream-stream.ts).
    eventStreamSerdeProvider,
    ...overrides,
  })
  ownRequestBodies(client)
  exposeUpstreamStreams(client)
  reuseEventStreamSerde(client)
  reuseSigner(client)
  if (opts.bedrockCalls !== 'sdk') callDirectly(client)
  return client
}

// Per-call work the SDK repeats though its result cannot change (issue 10: the SDK's call
// pipeline is the largest block of the proxy's CPU per stream). Both keep the SDK's own
// objects and only stop them being rebuilt; a protocol or config without them is left alone.

/**
 * The protocol builds its event-stream serde for every call, and each build runs
 * `require('@smithy/core/event-streams')`, which Node resolves afresh every time (a
 * self-reference through package exports: file system lookups): about 25 us per call.
 * The serde holds only what the protocol holds (its marshaller, serializer and
 * deserializer, the client's config as serde context), so one per context serves every call.
 */
function reuseEventStreamSerde (client: BedrockRuntimeClient): void {
  const protocol = client.config.protocol as unknown as { serdeContext?: object, loadEventStreamCapability?: () => Promise<unknown> }
  const load = protocol.loadEventStreamCapability
  if (typeof load !== 'function') return
  const built = new WeakMap<object, Promise<unknown>>()
  protocol.loadEventStreamCapability = async function loadOnce (this: typeof protocol): Promise<unknown> {
    const context = this.serdeContext
    if (context === undefined) return await load.call(this)
    let serde = built.get(context)
    if (serde === undefined) {
      serde = load.call(this)
      built.set(context, serde)
      serde.catch(() => built.delete(context))
    }
    return await serde
  }
}

/**
 * The SDK's default SigV4 signer provider makes a new SignatureV4 for every call, from a
 * copy of the whole client config (a dictionary-mode object: about 12 us a copy). Its
 * region and service are fixed by the first call (it keeps them in the config), so the
 * first signer it makes is the one every later call would get: kept and reused. A failed
 * attempt (no region yet) is not kept.
 */
function reuseSigner (client: BedrockRuntimeClient): void {
  const config = client.config as { signer?: (authScheme?: unknown) => Promise<unknown> }
  const makeSigner = config.signer
  if (typeof makeSigner !== 'function') return
  let signer: Promise<unknown> | undefined
  config.signer = async (authScheme?: unknown) => {
    if (signer === undefined) {
      signer = makeSigner(authScheme)
      signer.catch(() => { signer = undefined })
    }
    return await signer
  }
}

/**
 * The SDK's JSON codec writes a request body into Buffer.allocUnsafe, a view of Node's
 * shared Buffer pool (64 KiB slabs on Node 24), and its handler keeps the request until
 * the response ends: for a stream waiting on a slow first token, its whole life. Slabs
 * full of other short-lived bytes stayed pinned by the bodies in them, about 3 KiB of RSS
 * per waiting stream (issue 10). The body as a string, as the SDK sent JSON before its
 * v2 codec, holds only itself; it is the same bytes, so the length and the signature are
 * unchanged (this runs before both).
 */
function ownRequestBodies (client: BedrockRuntimeClient): void {
  client.middlewareStack.add((next) => async (args) => {
    const request = args.request as { body?: unknown } | undefined
    const body = request?.body
    if (request !== undefined && body instanceof Uint8Array && body.byteLength < body.buffer.byteLength) {
      request.body = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8')
    }
    return await next(args)
  }, { step: 'build', priority: 'high', name: 'ownRequestBody' })
}

/**
 * HTTP/1.1 with a keep-alive pool (issue 10). The SDK's default handler is HTTP/2 and
 * gives every event stream a session of its own (FIELD-NOTES 1): a new TCP and TLS
 * handshake per ConverseStream call, which users feel as time to first token, and CPU
 * per stream here. A pooled HTTP/1.1 socket serves one stream at a time and is reused
 * by the next. Faults are loud on HTTP/1.1 (ECONNRESET) where HTTP/2 can end a stream
 * silently (FIELD-NOTES 4); the relay checks for a complete stream either way.
 */
function keepAliveHandler (): NodeHttpHandler {
  // maxFreeSockets unbounded: Node's default (256) closes the warm sockets of a burst of
  // more streams than that, and the next burst pays the connects again (seen in a CPU
  // profile at 1000 streams). Idle sockets still close after KEEP_ALIVE_MS, so the pool
  // never outgrows the peak number of calls (MAX_OPEN_STREAMS) for long.
  const agent = { keepAlive: true, keepAliveMsecs: 1000, maxSockets: Infinity, maxFreeSockets: Infinity, timeout: KEEP_ALIVE_MS }
  return new NodeHttpHandler({ httpAgent: new HttpAgent(agent), httpsAgent: new HttpsAgent(agent) })
}

// HTTP/2's default connection window (64 KiB) is shared by every stream on the connection:
// with a hundred streams it holds a few frames each, and a busy moment stalls them all.
// Each stream keeps its own 64 KiB window, so this bounds nothing that those do not.
const CONNECTION_WINDOW_BYTES = 16 * 1024 * 1024
const widened = new WeakSet<object>()

// A connection that stops answering without closing (a NAT or load balancer that forgot it,
// a host gone) raises no error: every call leased to it, up to a hundred at a time, would wait
// for the first-event timeout, until the kernel gives up on the socket (about 15 minutes by
// default). So a call that is aborted (a timeout, or its client gone) has its connection
// pinged, or every connection when it had none yet; one that does not answer in time is
// destroyed (its streams end with an error event) and the next call opens another.
const PING_TIMEOUT_MS = 10_000

/**
 * HTTP/2 with event streams multiplexed (BEDROCK_HTTP=http2-shared). The SDK's handler
 * gives each event stream a connection of its own (`isEventStream` isolates it); without
 * that flag, calls lease the handler's own pool, which puts up to `maxConcurrentStreams`
 * on one connection and opens another past it, and closes a connection gracefully on
 * GOAWAY. One socket for many streams: fewer file descriptors and less memory per open
 * stream, and one TLS handshake for many calls against AWS. The cost: a connection that
 * drops fails every stream on it (each ends as an error event, never as a completion:
 * the relay checks every stream for its end, FIELD-NOTES 4).
 *
 * The bound follows the endpoint: when a connection's SETTINGS allow fewer concurrent
 * streams than ours, the pool's bound comes down to that. Past the endpoint's limit, Node
 * would hold a call back on the full connection until a stream ends (a long answer holds
 * one for minutes); under the pool's bound, the call opens another connection instead.
 */
class SharedHttp2Handler extends NodeHttp2Handler {
  #streamsPerConnection: number
  readonly #pingTimeoutMs: number
  // Connections that have answered a call and are still open: the ones a probe pings.
  readonly #sessions = new Set<ClientHttp2Session>()
  readonly #probing = new WeakSet<ClientHttp2Session>()

  constructor (streamsPerConnection: number, pingTimeoutMs: number) {
    super({ maxConcurrentStreams: streamsPerConnection })
    this.#streamsPerConnection = streamsPerConnection
    this.#pingTimeoutMs = pingTimeoutMs
  }

  override async handle (request: HttpRequest, options: HttpHandlerOptions & { isEventStream?: boolean } = {}): Promise<{ response: HttpResponse }> {
    const { isEventStream: _isolate, ...shared } = options
    const signal = options.abortSignal as AbortSignal | undefined
    // The call's connection, once its response has come: until then, it may be on any.
    const call: { session?: ClientHttp2Session } = {}
    const onAbort = (): void => {
      if (call.session !== undefined) this.#probe(call.session)
      else for (const open of this.#sessions) this.#probe(open)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    let result: { response: HttpResponse }
    try {
      result = await super.handle(request, shared)
    } catch (err) {
      signal?.removeEventListener('abort', onAbort)
      throw err
    }
    const stream = result.response.body as Partial<ClientHttp2Stream> | undefined
    const session = stream?.session as ClientHttp2Session | undefined
    call.session = session
    stream?.once?.('close', () => signal?.removeEventListener('abort', onAbort))
    if (session !== undefined && !widened.has(session)) {
      widened.add(session)
      session.setLocalWindowSize(CONNECTION_WINDOW_BYTES)
      const open = session
      this.#sessions.add(open)
      open.once('close', () => this.#sessions.delete(open))
    }
    const allowed = session?.remoteSettings.maxConcurrentStreams
    if (allowed !== undefined && allowed >= 1 && allowed < this.#streamsPerConnection) {
      this.#streamsPerConnection = allowed
      // Public handler API: the pool takes the new bound from the next call on.
      this.updateHttpClientConfig('maxConcurrentStreams', allowed)
    }
    return result
  }

  #probe (session: ClientHttp2Session): void {
    if (session.closed || session.destroyed || this.#probing.has(session)) return
    this.#probing.add(session)
    let answered = false
    const timer = setTimeout(() => {
      // The answer may be waiting in the socket behind a busy event loop: read once more.
      setImmediate(() => {
        if (!answered) session.destroy(new Error(`upstream HTTP/2 connection did not answer a PING within ${this.#pingTimeoutMs} ms`))
      })
    }, this.#pingTimeoutMs)
    timer.unref()
    const sent = session.ping(() => {
      answered = true
      clearTimeout(timer)
      this.#probing.delete(session)
    })
    if (!sent) {
      clearTimeout(timer)
      this.#probing.delete(session)
    }
  }
}

/** The region the client will sign for, or undefined when no source has one. */
export async function resolveRegion (client: BedrockRuntimeClient): Promise<string | undefined> {
  try {
    const region = await client.config.region()
    return region === '' ? undefined : region
  } catch {
    return undefined
  }
}
