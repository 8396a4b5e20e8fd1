// Process entry: config -> Bedrock client -> composeApp -> listen -> graceful close.
// Everything else lives in app.ts and plugin.ts, which tests build without listening.
import { pathToFileURL } from 'node:url'
import closeWithGrace from 'close-with-grace'
import type { FastifyBaseLogger } from 'fastify'
import { composeApp } from './app.js'
import { createBedrockClient, resolveRegion } from './bedrock/client.js'
import { checkCredentials, CredentialsState } from './bedrock/credentials.js'
import { ConfigError, loadConfig, type Config } from './config.js'
import { createLogger } from './logger.js'

// Long enough for a container or instance role's metadata endpoint, short enough to warn
// soon after start-up.
const CREDENTIALS_CHECK_TIMEOUT_MS = 5000

export interface RunningServer {
  url: string
  /** Drain for `delayMs` (readiness 503, still serving), then end open streams and close. */
  close: (delayMs?: number) => Promise<void>
}

export async function startServer (config: Config): Promise<RunningServer> {
  const logger = createLogger(config.logLevel)
  const bedrock = createBedrockClient(config)
  const region = await resolveRegion(bedrock)
  if (region === undefined) {
    throw new ConfigError(['No AWS region: set AWS_REGION (or AWS_DEFAULT_REGION, or a region in your AWS profile)'])
  }
  const credentials = new CredentialsState()
  const app = await composeApp(config, { bedrock, logger: logger as FastifyBaseLogger, credentials })
  const url = await app.listen({ port: config.port, host: config.host, backlog: config.listenBacklog })
  logger.info({ region, endpoint: config.endpoint ?? 'aws', model: config.defaultModelId, allowedModels: [...config.allowedModels], redis: config.redisUrl !== undefined }, 'bedrock-sse-proxy ready')
  // After listen, never awaited: a slow chain (instance metadata) must not delay start-up.
  checkCredentials(bedrock, CREDENTIALS_CHECK_TIMEOUT_MS).then(function reportCredentials (check) {
    if (credentials.status === 'unchecked') credentials.status = check.status // a real call may have answered first
    if (check.status === 'ok') logger.info({ awsAuth: check.source }, 'AWS credentials found')
    else if (check.status === 'missing') {
      logger.warn({ err: check.error, hint: 'set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, a container or instance role, or AWS_BEARER_TOKEN_BEDROCK' },
        'no AWS credentials found: every Bedrock call will fail with upstream_credentials')
    } else logger.warn(`AWS credentials not confirmed within ${CREDENTIALS_CHECK_TIMEOUT_MS} ms; /readyz says unchecked until a call tells`)
  }).catch((err: unknown) => logger.warn({ err }, 'AWS credentials check failed'))
  return {
    url,
    close: async (delayMs = 0) => {
      await app.bedrockSse.drain(delayMs)
      await app.close()
      bedrock.destroy()
    },
  }
}

/** Reads the environment, starts the server, and closes it gracefully on SIGTERM/SIGINT. */
export async function main (): Promise<void> {
  let config: Config
  try {
    config = loadConfig(process.env)
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`)
    process.exit(1)
  }
  try {
    const server = await startServer(config)
    // The whole of it, delay included, within SHUTDOWN_TIMEOUT_MS (close-with-grace exits 1
    // past it). SIGTERM is what orchestrators send (docker stop, Kubernetes): readiness 503,
    // serve for SHUTDOWN_DELAY_MS while the load balancer notices, then end open streams
    // (FIELD-NOTES 11) and exit. SIGINT is Ctrl-C at a terminal, with no balancer to wait
    // for; a fatal error has nothing to wait for either.
    closeWithGrace({ delay: config.shutdownTimeoutMs }, async function shutdown ({ signal, err }) {
      const delayMs = err === undefined && signal === 'SIGTERM' ? config.shutdownDelayMs : 0
      if (err !== undefined) process.stderr.write(`fatal: ${err.stack ?? String(err)}\n`)
      else process.stderr.write(`${String(signal)} received, closing${delayMs > 0 ? ` after a ${delayMs} ms drain` : ''}\n`)
      await server.close(delayMs)
    })
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`)
    process.exit(1)
  }
}

// Run only as the entry point (node dist/server.js, tsx src/server.ts), not on import.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main()
}
