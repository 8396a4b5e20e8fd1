// Test harness: a fresh emulator and a fresh proxy per test, both on port 0, the real
// AWS SDK between them over real HTTP/2 (calls multiplexed, the proxy's default), every
// call's SigV4 signature checked by the emulator, SSE parsed with eventsource-parser
// (WHATWG-conformant), and the proxy's log lines captured parsed.
import type { TestContext } from 'node:test'
import { Writable } from 'node:stream'
import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime'
import { createBedrockClient, type BedrockClientOptions } from '../src/bedrock/client.js'
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { composeApp, type AppDeps } from '../src/app.js'
import { loadConfig, type Env } from '../src/config.js'
import { DEFAULTS } from '../src/config/defaults.js'
import { startEmulator, type Emulator, type EmulatorOptions } from '../src/emulator/index.js'
import { createLogger } from '../src/logger.js'
import { createRedis } from '../src/redis.js'
import { assertNoSecretsInLogs, secretsOfEnv } from './log-scan.js'

async function waitForRedis (redis: ReturnType<typeof createRedis>): Promise<void> {
  if (redis.status === 'ready') return
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('redis not ready')), 10_000)
    redis.once('ready', () => { clearTimeout(timer); resolve() })
  })
}

export interface Harness {
  app: FastifyInstance
  url: string
  emulator: Emulator
  bedrock: BedrockRuntimeClient
  /** Every log line the proxy wrote, parsed. */
  logs: Array<Record<string, unknown>>
  /** Credentials the test used (keys, tickets, tokens): none may appear in `logs` (checked when the test ends). */
  secrets: Set<string>
}

export type UpstreamOptions = Partial<Omit<BedrockClientOptions, 'region' | 'endpoint'>>

export interface BuildOptions {
  env?: Env
  emulator?: EmulatorOptions
  /** Share one emulator between several proxies (two instances behind one Bedrock). */
  sharedEmulator?: Emulator
  /** Connect the proxy to this Redis (deps.redis), as REDIS_URL would. */
  redisUrl?: string
  /** SDK client options on top of the defaults (e.g. maxAttempts). */
  client?: ConstructorParameters<typeof BedrockRuntimeClient>[0]
  /** Upstream connection options on top of the config's (createBedrockClient). */
  upstream?: UpstreamOptions
  /** An OpenTelemetry tracer provider (deps.tracerProvider), e.g. with an in-memory exporter. */
  tracerProvider?: AppDeps['tracerProvider']
}

/**
 * The AWS key every test signs with: the test emulator checks each call's SigV4 signature
 * against it, as Bedrock would (a server process a test starts gets it as AWS_* variables).
 */
export const TEST_CREDENTIALS = { accessKeyId: 'AKIDTESTTESTTEST', secretAccessKey: 'test-secret-never-logged' } as const
export const TEST_CREDENTIALS_ENV = { AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey } as const

export async function startTestEmulator (t: TestContext, opts: EmulatorOptions = {}): Promise<Emulator> {
  const credentials = { [TEST_CREDENTIALS.accessKeyId]: TEST_CREDENTIALS.secretAccessKey }
  const emulator = await startEmulator({ frameDelayMs: 0, credentials, ...opts })
  t.after(() => emulator.close())
  return emulator
}

/** The production client factory pointed at the emulator, signing with TEST_CREDENTIALS (which the test emulator checks). */
export function emulatorClient (emulator: Emulator, extra: BuildOptions['client'] = {}, upstream: UpstreamOptions = {}): BedrockRuntimeClient {
  return createBedrockClient({ region: 'us-east-1', endpoint: emulator.url, bedrockHttp: DEFAULTS.bedrockHttp, ...upstream }, {
    credentials: TEST_CREDENTIALS,
    ...extra,
  })
}

export async function build (t: TestContext, opts: BuildOptions = {}): Promise<Harness> {
  const emulator = opts.sharedEmulator ?? await startTestEmulator(t, opts.emulator)
  // The event-loop-delay bound is off unless a test sets it: two test files share two
  // cores, and a busy moment must not turn into a 503 in a test about something else
  // (test/pressure.test.ts crosses the bounds on purpose).
  const config = loadConfig({ LOG_LEVEL: 'info', AWS_REGION: 'us-east-1', BEDROCK_MODEL_ID: 'test.model-v1:0', PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0', ...opts.env })
  const bedrock = emulatorClient(emulator, opts.client, { bedrockHttp: config.bedrockHttp, http2StreamsPerConnection: config.http2StreamsPerConnection, ...opts.upstream })
  const logs: Array<Record<string, unknown>> = []
  const sink = new Writable({
    write (chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') logs.push(JSON.parse(line) as Record<string, unknown>)
      cb()
    },
  })
  const logger = createLogger(config.logLevel, sink)
  const redis = opts.redisUrl !== undefined ? createRedis(opts.redisUrl, logger) : undefined
  if (redis !== undefined) await waitForRedis(redis)
  const app = await composeApp(config, {
    bedrock,
    logger: logger as FastifyBaseLogger,
    ...(redis !== undefined ? { redis } : {}),
    ...(opts.tracerProvider !== undefined ? { tracerProvider: opts.tracerProvider } : {}),
  })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  const secrets = new Set(secretsOfEnv(opts.env))
  t.after(async () => {
    await app.close()
    bedrock.destroy()
    redis?.disconnect()
    assertNoSecretsInLogs(logs, secrets)
  })
  return { app, url, emulator, bedrock, logs, secrets }
}

export interface SseEvent {
  id: string | undefined
  event: string
  data: unknown
}

export interface SseResult {
  status: number
  headers: Headers
  events: SseEvent[]
  comments: string[]
  /** Event names and `:comment` entries in wire order (to check a heartbeat came before a token). */
  order: string[]
}

/** Parses a whole SSE body with a WHATWG-conformant parser; data must be JSON. */
export function parseSse (body: string): { events: SseEvent[], comments: string[], order: string[] } {
  const events: SseEvent[] = []
  const comments: string[] = []
  const order: string[] = []
  const parser = createParser({
    onEvent (message: EventSourceMessage) {
      events.push({ id: message.id, event: message.event ?? 'message', data: JSON.parse(message.data) })
      order.push(message.event ?? 'message')
    },
    onComment (comment) {
      comments.push(comment)
      order.push(`:${comment.trim()}`)
    },
  })
  parser.feed(body)
  return { events, comments, order }
}

/** Requests a stream and reads it to the end. */
export async function fetchSse (url: string, init: RequestInit = {}): Promise<SseResult> {
  const res = await fetch(url, { ...init, signal: init.signal ?? AbortSignal.timeout(30_000) })
  const body = await res.text()
  return { status: res.status, headers: res.headers, ...parseSse(body) }
}

export async function postSse (base: string, body: unknown, init: RequestInit = {}): Promise<SseResult> {
  return fetchSse(`${base}/v1/converse-stream`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    ...init,
  })
}

export function eventNames (events: SseEvent[]): string[] {
  return events.map(e => e.event)
}

/** Joins the text of every `text` event, in order. */
export function joinText (events: SseEvent[]): string {
  return events.filter(e => e.event === 'text').map(e => (e.data as { text: string }).text).join('')
}

export function lastEvent (events: SseEvent[]): SseEvent | undefined {
  return events[events.length - 1]
}
