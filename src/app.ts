// buildApp(config, deps) assembles the whole proxy and never listens: server.ts does,
// and tests start it on port 0. Dependencies that talk to the outside (the Bedrock
// client, the logger) come in through `deps` so tests pass the real SDK pointed at the
// emulator.
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime'
import type { TracerProvider } from '@opentelemetry/api'
import cors from '@fastify/cors'
import fastifyStatic from '@fastify/static'
import { Ajv, type Options as AjvOptions } from 'ajv'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify'
import type { Redis } from 'ioredis'
import { CredentialsState } from './bedrock/credentials.js'
import type { StreamSummary } from './bedrock/relay.js'
import type { Config } from './config.js'
import { ProxyError } from './errors.js'
import { createLogger } from './logger.js'
import { answerClientError, answerFrameworkError, registerErrorHandler } from './plugins/error-handler.js'
import { registerBodiesInFlight } from './plugins/bodies-in-flight.js'
import { metricsPlugin } from './plugins/metrics.js'
import { pressurePlugin } from './plugins/pressure.js'
import { securityPlugin } from './plugins/security.js'
import { converseRoutes } from './routes/converse.js'
import { converseStreamRoutes } from './routes/converse-stream.js'
import { healthRoutes } from './routes/health.js'
import { subscribeToCancels } from './plugins/cancel-subscriber.js'
import { streamRoutes } from './routes/streams.js'
import { StreamHub } from './streams/hub.js'
import { RedisStreams } from './streams/redis-streams.js'
import { StreamRegistry } from './streams/registry.js'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * The first step of a graceful shutdown, before close(): /readyz answers 503 and every
     * response says `Connection: close`, while requests are still served for `delayMs`, so
     * load balancers stop sending here before anything is refused.
     */
    drain: (delayMs: number) => Promise<void>
  }
}

export interface AppDeps {
  bedrock: BedrockRuntimeClient
  logger?: FastifyBaseLogger
  /** ioredis client (REDIS_URL): shared replay buffers and limits. The caller owns and closes it. */
  redis?: Redis
  /** What /readyz reports about AWS credentials; server.ts fills it from its start-up check. */
  credentials?: CredentialsState
  /**
   * OpenTelemetry tracer provider (tests pass one with an in-memory exporter); the caller
   * owns and shuts it down. Without it, OTEL_EXPORTER_OTLP_ENDPOINT makes the app create
   * its own OTLP provider, shut down when the app closes.
   */
  tracerProvider?: TracerProvider
}

/** Called once per finished stream or Converse call (usage accounting, budgets). */
export type CallFinishedHook = (request: FastifyRequest, summary: StreamSummary) => void

/** What routes share; passed explicitly rather than decorated, so the types stay plain. */
export interface AppContext {
  config: Config
  bedrock: BedrockRuntimeClient
  /** Open responses (readers, Converse calls), for shutdown and /readyz. */
  streams: StreamRegistry
  /** Streams produced by this instance, with their replay buffers. */
  hub: StreamHub
  /** The shared replay buffer when Redis is configured. */
  remote: RedisStreams | undefined
  redis: Redis | undefined
  state: { closing: boolean }
  credentials: CredentialsState
  /** Plugins register here to see every finished call with its usage. */
  callFinished: CallFinishedHook[]
  /** Called for every heartbeat written to a stream (metrics replaces it); keep it cheap. */
  heartbeatSent: () => void
  /** Overload state, when a PRESSURE_* bound is configured (plugins/pressure.ts). */
  pressure?: OverloadState
}

export interface OverloadState {
  underPressure: () => boolean
  usage: () => { eventLoopDelay: number, heapUsed: number }
}

// Unknown fields are refused rather than silently removed (Fastify's default Ajv has
// removeAdditional: true). Bodies are JSON and keep their types; query strings are
// text, so only they are coerced ("maxTokens=100" -> 100).
// How long open streams get to deliver their final events on shutdown.
const STREAM_DRAIN_MS = 2000

const AJV_BASE: AjvOptions = { removeAdditional: false, useDefaults: true, allErrors: false, strict: true }
const bodyAjv = new Ajv({ ...AJV_BASE, coerceTypes: false })
const queryAjv = new Ajv({ ...AJV_BASE, coerceTypes: true })

export async function buildApp (config: Config, deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger ?? (createLogger(config.logLevel) as FastifyBaseLogger),
    // One access line per request, written when the response ends (onResponse below).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimitBytes,
    // Fastify leaves both at 0: a stalled upload would hold its socket forever (FIELD-NOTES
    // 20, issue 7). They bound receiving the request only, never a long SSE answer.
    requestTimeout: config.requestTimeoutMs,
    http: {
      headersTimeout: config.headersTimeoutMs,
      // Node checks those timeouts on this interval (default 30 s, which would let a
      // 1 s timeout run 30 s).
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(config.headersTimeoutMs / 4))),
    },
    clientErrorHandler: answerClientError,
    frameworkErrors: answerFrameworkError,
    // A HEAD for the GET stream route would run the handler and call Bedrock for nothing.
    exposeHeadRoutes: false,
    return503OnClosing: true,
    // Without it X-Forwarded-For is ignored: request.ip (the anonymous limits key) is the peer.
    trustProxy: config.security.trustProxy,
  })
  const hub = new StreamHub({ ttlMs: config.streamTtlMs, maxBytes: config.streamBufferMaxBytes, graceMs: config.resumeGraceMs, log: app.log })
  const remote = deps.redis !== undefined ? new RedisStreams(deps.redis, { ttlMs: config.streamTtlMs, log: app.log }) : undefined
  const ctx: AppContext = {
    config,
    bedrock: deps.bedrock,
    streams: new StreamRegistry(),
    hub,
    remote,
    redis: deps.redis,
    state: { closing: false },
    credentials: deps.credentials ?? new CredentialsState(),
    callFinished: [],
    heartbeatSent: () => {},
  }
  ctx.callFinished.push(function recordCredentials (_request, summary) { ctx.credentials.record(summary) })
  if (deps.redis !== undefined) await subscribeToCancels(app, deps.redis, hub)

  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'querystring' ? queryAjv : bodyAjv).compile(schema))
  // JSON only: a text/plain POST is a "simple" cross-site request that skips the CORS
  // preflight (FIELD-NOTES 19), so it gets 415 instead of a parse.
  app.removeContentTypeParser(['text/plain'])
  registerErrorHandler(app)
  registerBodiesInFlight(app, config.bodiesInFlightMaxBytes)
  app.addHook('onResponse', async function logAccess (request, reply) {
    request.log.info({ req: request, res: reply, responseTimeMs: Math.round(reply.elapsedTime) }, 'request completed')
  })

  // @fastify/cors allows only what it is told (FIELD-NOTES 22): DELETE is the Stop button,
  // last-event-id a fetch reader's resume; a cross-origin page reads a response header
  // only when it is exposed (when to retry, what is left of the rate limit).
  await app.register(cors, {
    origin: config.corsOrigins.length > 0 ? [...config.corsOrigins] : false,
    methods: ['GET', 'POST', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type', 'last-event-id'],
    exposedHeaders: ['retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'www-authenticate'],
    maxAge: 600,
  })

  app.decorate('drain', async function drain (delayMs: number) {
    ctx.state.closing = true
    app.log.info({ delayMs }, 'draining: /readyz answers 503, requests are served until the delay ends')
    await sleep(delayMs)
  })
  // A keep-alive connection (a balancer's pool, a browser) would bring its next request
  // back here; Connection: close sends it through the balancer to another instance.
  app.addHook('onSend', async function closeConnectionsWhileDraining (_request, reply, payload) {
    if (ctx.state.closing) reply.header('connection', 'close')
    return payload
  })

  // Open streams would hold fastify.close() forever (FIELD-NOTES 11): end each with
  // `error` shutting_down + `done`, which lets their responses finish.
  // Waiting for them here means their connections are idle by the time server.close()
  // closes idle connections; otherwise keep-alive would hold close() for 72 s.
  app.addHook('preClose', async function endOpenStreams () {
    ctx.state.closing = true
    hub.abortAll(new ProxyError('shutting_down'))
    await ctx.streams.closeAll(STREAM_DRAIN_MS)
  })
  app.addHook('onClose', async function dropBuffers () {
    hub.clear()
    remote?.close()
  })

  // Observability first: the request span and the refusal counter must see requests that
  // security refuses, and overload refusals are the cheapest (before any auth work).
  await registerTracing(app, ctx, config, deps)
  await app.register(pressurePlugin, ctx)
  if (config.metrics.enabled) await app.register(metricsPlugin, ctx)
  // Before the routes: origin, auth, rate limit and limits hooks must cover all of them.
  await app.register(securityPlugin, ctx)
  await app.register(healthRoutes, ctx)
  await app.register(converseStreamRoutes, ctx)
  await app.register(converseRoutes, ctx)
  await app.register(streamRoutes, ctx)
  if (config.demoPage) {
    await app.register(fastifyStatic, { root: fileURLToPath(new URL('../public/', import.meta.url)) })
  }
  return app
}

/**
 * Tracing costs nothing when off: the plugin, the OpenTelemetry API and the SDK are
 * imported only when a provider is given or an OTLP endpoint is configured.
 */
async function registerTracing (app: FastifyInstance, ctx: AppContext, config: Config, deps: AppDeps): Promise<void> {
  let provider = deps.tracerProvider
  if (provider === undefined && config.tracing !== undefined) {
    const { createOtlpTracerProvider } = await import('./telemetry/otlp-provider.js')
    const owned = createOtlpTracerProvider(config.tracing)
    provider = owned.provider
    // After every response has closed (their spans ended): flush, then stop the exporter.
    app.addHook('onClose', async function shutDownTracing () { await owned.shutdown() })
  }
  if (provider === undefined) return
  const { tracingPlugin } = await import('./plugins/tracing.js')
  await app.register(tracingPlugin, { ctx, provider })
}
