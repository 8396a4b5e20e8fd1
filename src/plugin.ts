// bedrockSse: the whole proxy as one Fastify plugin, to mount in any Fastify 5 app:
//
//   await fastify.register(bedrockSse, { config: loadConfig(process.env), bedrock, prefix: '/ai' })
//
// It serves /healthz, /readyz, /metrics (when on) and the /v1 API under `prefix`, with
// its own error handler, validation and CORS in its own scope; the host app's other
// routes are not touched. Shared services are decorators of that scope (services/*.ts);
// the host gets one handle, `fastify.bedrockSse`, to drain before close and to read
// what the proxy reports about itself. Server-wide settings (timeouts, the HTTP parser's
// errors, the access log) belong to the server: composeApp (app.ts) sets them for the
// standalone proxy.
import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime'
import type { TracerProvider } from '@opentelemetry/api'
import { setTimeout as sleep } from 'node:timers/promises'
import { createRequire } from 'node:module'
import cors from '@fastify/cors'
import swagger, { type FastifyDynamicSwaggerOptions } from '@fastify/swagger'
import { Ajv, type Options as AjvOptions } from 'ajv'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Redis } from 'ioredis'
import { CredentialsState } from './bedrock/credentials.js'
import type { Config } from './config.js'
import { registerBodiesInFlight } from './plugins/bodies-in-flight.js'
import { registerErrorHandler } from './plugins/error-handler.js'
import { metricsPlugin } from './plugins/metrics.js'
import { pressurePlugin } from './plugins/pressure.js'
import { healthRoutes } from './routes/health.js'
import { v1Routes, type DeclaredRoute } from './routes/v1.js'
import coreServices, { Lifecycle } from './services/core.js'
import securityServices from './services/security.js'
import streamServices from './services/streams.js'

export interface BedrockSseOptions {
  /** The validated configuration: loadConfig(env). */
  config: Config
  /**
   * The Bedrock Runtime client (createBedrockClient(config), or one pointed at the emulator). The caller owns it.
   * One made by createBedrockClient calls directly (BEDROCK_CALLS); any other gets the SDK's whole pipeline per call.
   */
  bedrock: BedrockRuntimeClient
  /** ioredis client (REDIS_URL): shared replay buffers and limits. The caller owns it. */
  redis?: Redis | undefined
  /** What /readyz reports about AWS credentials (server.ts fills it from its start-up check). */
  credentials?: CredentialsState | undefined
  /**
   * OpenTelemetry tracer provider; the caller owns and shuts it down. Without it,
   * OTEL_EXPORTER_OTLP_ENDPOINT makes the plugin create its own, shut down on close.
   */
  tracerProvider?: TracerProvider | undefined
  /** Where to mount the proxy ('' by default: /v1/..., /healthz). */
  prefix?: string
}

/** What the host app sees of the proxy. */
export interface BedrockSseHandle {
  /**
   * The first step of a graceful shutdown, before close(): /readyz answers 503 and every
   * response says `Connection: close`, while requests are still served for `delayMs`, so
   * load balancers stop sending here before anything is refused.
   */
  drain: (delayMs: number) => Promise<void>
  readonly credentials: CredentialsState
  /** Base URL of the METRICS_PORT listener once ready; undefined when /metrics is on the main port or off. */
  readonly metricsUrl: string | undefined
  /** Every /v1 route with the kind it declared. */
  readonly routes: readonly DeclaredRoute[]
}

declare module 'fastify' {
  interface FastifyInstance {
    bedrockSse: BedrockSseHandle
  }
}

// Unknown fields are refused rather than silently removed (Fastify's default Ajv has
// removeAdditional: true). Bodies are JSON and keep their types; query strings are
// text, so only they are coerced ("maxTokens=100" -> 100).
const AJV_BASE: AjvOptions = { removeAdditional: false, useDefaults: true, allErrors: false, strict: true }
const bodyAjv = new Ajv({ ...AJV_BASE, coerceTypes: false })
const queryAjv = new Ajv({ ...AJV_BASE, coerceTypes: true })

const { version } = createRequire(import.meta.url)('../package.json') as { version: string }

const OPENAPI: NonNullable<FastifyDynamicSwaggerOptions['openapi']> = {
  openapi: '3.1.0',
  info: {
    title: 'bedrock-sse-proxy',
    version,
    description: 'Stream AWS Bedrock ConverseStream to browsers as Server-Sent Events. Errors before a stream: an HTTP status with { error: { code, message } }; after `start`: an `error` event, then `done`.',
  },
  components: {
    securitySchemes: {
      apiKey: { type: 'http', scheme: 'bearer', description: 'An API key or a JWT: Authorization: Bearer <token>.' },
      ticket: { type: 'apiKey', in: 'query', name: 'ticket', description: 'A single-use ticket from POST /v1/tickets (GET only, for EventSource).' },
    },
  },
  security: [{ apiKey: [] }, { ticket: [] }],
}

/**
 * Validation errors that name the field: Ajv's additionalProperties message ("must NOT
 * have additional properties") does not say which one, so the formatter adds it.
 */
function formatValidationErrors (errors: ReadonlyArray<{ instancePath: string, message?: string, keyword: string, params: Record<string, unknown> }>, dataVar: string): Error {
  const text = errors.map(e => {
    const where = `${dataVar}${e.instancePath}`
    if (e.keyword === 'additionalProperties') return `${where} must NOT have additional properties: "${String(e.params['additionalProperty'])}" is not accepted`
    return `${where} ${e.message ?? 'is invalid'}`
  }).join(', ')
  return new Error(text)
}

interface ScopeOptions extends BedrockSseOptions {
  lifecycle: Lifecycle
  credentials: CredentialsState
  declared: DeclaredRoute[]
  exposed: { metricsUrl: () => string | undefined }
}

/** The proxy's own scope (encapsulated): its services, hooks and routes stay in it. */
async function proxyScope (app: FastifyInstance, opts: ScopeOptions): Promise<void> {
  const { config } = opts
  await app.register(coreServices, { config, bedrock: opts.bedrock, redis: opts.redis, lifecycle: opts.lifecycle, credentials: opts.credentials })
  await app.register(streamServices)
  await app.register(securityServices)

  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'querystring' ? queryAjv : bodyAjv).compile(schema))
  // JSON only: a text/plain POST is a "simple" cross-site request that skips the CORS
  // preflight (FIELD-NOTES 19), so it gets 415 instead of a parse.
  app.removeContentTypeParser(['text/plain'])
  app.setSchemaErrorFormatter(formatValidationErrors)
  registerErrorHandler(app)
  registerBodiesInFlight(app, config.bodiesInFlightMaxBytes)

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
  // A keep-alive connection (a balancer's pool, a browser) would bring its next request
  // back here; Connection: close sends it through the balancer to another instance.
  app.addHook('onSend', async function closeConnectionsWhileDraining (_request, reply, payload) {
    if (opts.lifecycle.closing) reply.header('connection', 'close')
    return payload
  })

  // Observability first: the request span and the refusal counter must see requests that
  // security refuses, and overload refusals are the cheapest (before any auth work).
  await registerTracing(app, opts)
  await app.register(pressurePlugin)
  if (config.metrics.enabled) {
    await app.register(metricsPlugin)
    opts.exposed.metricsUrl = () => app.metricsUrl
  }
  // Before the routes, so it sees them all: the same schemas that validate requests.
  await app.register(swagger, { openapi: OPENAPI })
  app.get('/openapi.json', { schema: { hide: true } }, async function openapi () { return app.swagger() })
  await app.register(healthRoutes)
  await app.register(v1Routes, { prefix: '/v1', declared: opts.declared })
}

/**
 * Tracing costs nothing when off: the plugin, the OpenTelemetry API and the SDK are
 * imported only when a provider is given or an OTLP endpoint is configured.
 */
async function registerTracing (app: FastifyInstance, opts: BedrockSseOptions): Promise<void> {
  let provider = opts.tracerProvider
  if (provider === undefined && opts.config.tracing !== undefined) {
    const { createOtlpTracerProvider } = await import('./telemetry/otlp-provider.js')
    const owned = createOtlpTracerProvider(opts.config.tracing)
    provider = owned.provider
    // After every response has closed (their spans ended): flush, then stop the exporter.
    app.addHook('onClose', async function shutDownTracing () { await owned.shutdown() })
  }
  if (provider === undefined) return
  const { tracingPlugin } = await import('./plugins/tracing.js')
  await app.register(tracingPlugin, { provider })
}

async function bedrockSsePlugin (host: FastifyInstance, opts: BedrockSseOptions): Promise<void> {
  const lifecycle = new Lifecycle()
  const credentials = opts.credentials ?? new CredentialsState()
  const declared: DeclaredRoute[] = []
  const exposed = { metricsUrl: (): string | undefined => undefined }
  host.decorate('bedrockSse', {
    drain: async function drain (delayMs: number) {
      lifecycle.closing = true
      host.log.info({ delayMs }, 'draining: /readyz answers 503, requests are served until the delay ends')
      await sleep(delayMs)
    },
    credentials,
    get metricsUrl () { return exposed.metricsUrl() },
    routes: declared,
  } satisfies BedrockSseHandle)
  await host.register(proxyScope, { ...opts, prefix: opts.prefix ?? '', lifecycle, credentials, declared, exposed })
}

/** The proxy as a Fastify plugin; see the top of this file. */
export const bedrockSse = fp(bedrockSsePlugin, { name: 'bedrock-sse-proxy', fastify: '5.x' })
