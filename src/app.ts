// composeApp(config, deps): the standalone proxy, one Fastify server with the bedrockSse
// plugin mounted at its root. It never listens: server.ts does, and the demo, the tests
// and the benchmark call the same function and start it on a port of their choosing.
// What only a whole server can set lives here: the logger, the timeouts for receiving
// requests, the answers to errors Node's HTTP parser raises, the access log, and the
// demo page. Clients it creates (Bedrock, Redis) it also closes; clients passed in stay
// the caller's.
import { fileURLToPath } from 'node:url'
import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime'
import type { TracerProvider } from '@opentelemetry/api'
import fastifyStatic from '@fastify/static'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import { createBedrockClient } from './bedrock/client.js'
import type { CredentialsState } from './bedrock/credentials.js'
import type { Config } from './config.js'
import { createLogger } from './logger.js'
import { bedrockSse } from './plugin.js'
import { answerClientError, answerFrameworkError } from './plugins/error-handler.js'
import { lazyRequestLogger } from './request-log.js'

export interface AppDeps {
  /** Default: a client for config's region and endpoint, destroyed when the app closes. */
  bedrock?: BedrockRuntimeClient
  /** Default: pino at config.logLevel, to stdout. */
  logger?: FastifyBaseLogger
  /** Default: a client for REDIS_URL when set, disconnected when the app closes. */
  redis?: Redis
  credentials?: CredentialsState
  tracerProvider?: TracerProvider
}

export async function composeApp (config: Config, deps: AppDeps = {}): Promise<FastifyInstance> {
  const logger = deps.logger ?? (createLogger(config.logLevel) as FastifyBaseLogger)
  const app = Fastify({
    loggerInstance: logger,
    // One access line per request, written when the response ends (onResponse below).
    logController: new LogController({ disableRequestLogging: true }),
    // request.log made on the first line a request writes, not for every request (issue 10).
    childLoggerFactory: lazyRequestLogger,
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
    // A HEAD for a GET stream route would run the handler and call Bedrock for nothing.
    exposeHeadRoutes: false,
    return503OnClosing: true,
    // Once close() has run the preClose hooks (open streams ended and drained, bounded by
    // STREAM_DRAIN_MS), every connection left is destroyed: Node's server.close() waits on
    // a connection that never sent a request (browsers open them ahead of time), which
    // would hold a SIGTERM until SHUTDOWN_TIMEOUT_MS and an exit 1.
    forceCloseConnections: true,
    // Without it X-Forwarded-For is ignored: request.ip (the anonymous limits key) is the peer.
    trustProxy: config.security.trustProxy,
  })
  app.addHook('onResponse', async function logAccess (request, reply) {
    request.log.info({ req: request, res: reply, responseTimeMs: Math.round(reply.elapsedTime) }, 'request completed')
  })
  // A client that leaves before any answer gets no onResponse: still one line per request.
  app.addHook('onRequestAbort', async function logAbort (request) {
    request.log.info({ req: request }, 'request aborted')
  })

  const bedrock = deps.bedrock ?? createBedrockClient(config)
  if (deps.bedrock === undefined) app.addHook('onClose', async function destroyBedrockClient () { bedrock.destroy() })
  // ioredis is loaded only when Redis is configured: about 6 MiB of RSS a server without it does not carry.
  const redis = deps.redis ?? (config.redisUrl !== undefined ? (await import('./redis.js')).createRedis(config.redisUrl, logger) : undefined)
  if (deps.redis === undefined && redis !== undefined) app.addHook('onClose', async function disconnectRedis () { redis.disconnect() })

  await app.register(bedrockSse, { config, bedrock, redis, credentials: deps.credentials, tracerProvider: deps.tracerProvider })
  if (config.demoPage) {
    await app.register(fastifyStatic, { root: fileURLToPath(new URL('../public/', import.meta.url)) })
  }
  return app
}
