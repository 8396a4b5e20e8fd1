// buildApp(config, deps) assembles the whole proxy and never listens: server.ts does,
// and tests start it on port 0. Dependencies that talk to the outside (the Bedrock
// client, the logger) come in through `deps` so tests pass the real SDK pointed at the
// emulator.
import { fileURLToPath } from 'node:url'
import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime'
import cors from '@fastify/cors'
import fastifyStatic from '@fastify/static'
import { Ajv, type Options as AjvOptions } from 'ajv'
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { Config } from './config.js'
import { ProxyError } from './errors.js'
import { createLogger } from './logger.js'
import { registerErrorHandler } from './plugins/error-handler.js'
import { converseRoutes } from './routes/converse.js'
import { converseStreamRoutes } from './routes/converse-stream.js'
import { healthRoutes } from './routes/health.js'
import { StreamRegistry } from './streams.js'

export interface AppDeps {
  bedrock: BedrockRuntimeClient
  logger?: FastifyBaseLogger
}

/** What routes share; passed explicitly rather than decorated, so the types stay plain. */
export interface AppContext {
  config: Config
  bedrock: BedrockRuntimeClient
  streams: StreamRegistry
  state: { closing: boolean }
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
    bodyLimit: config.bodyLimitBytes,
    // A HEAD for the GET stream route would run the handler and call Bedrock for nothing.
    exposeHeadRoutes: false,
    return503OnClosing: true,
  })
  const ctx: AppContext = { config, bedrock: deps.bedrock, streams: new StreamRegistry(), state: { closing: false } }

  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'querystring' ? queryAjv : bodyAjv).compile(schema))
  // JSON only: a text/plain POST is a "simple" cross-site request that skips the CORS
  // preflight (FIELD-NOTES 19), so it gets 415 instead of a parse.
  app.removeContentTypeParser(['text/plain'])
  registerErrorHandler(app)

  await app.register(cors, {
    origin: config.corsOrigins.length > 0 ? [...config.corsOrigins] : false,
    methods: ['GET', 'POST'],
    maxAge: 600,
  })

  // Open streams would hold fastify.close() forever (FIELD-NOTES 11): end each with
  // `error` shutting_down + `done`, which lets their responses finish.
  // Waiting for them here means their connections are idle by the time server.close()
  // closes idle connections; otherwise keep-alive would hold close() for 72 s.
  app.addHook('preClose', async function endOpenStreams () {
    ctx.state.closing = true
    await ctx.streams.closeAll(new ProxyError('shutting_down'), STREAM_DRAIN_MS)
  })

  await app.register(healthRoutes, ctx)
  await app.register(converseStreamRoutes, ctx)
  await app.register(converseRoutes, ctx)
  if (config.demoPage) {
    await app.register(fastifyStatic, { root: fileURLToPath(new URL('../public/', import.meta.url)) })
  }
  return app
}
