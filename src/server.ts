// Process entry: config -> Bedrock client -> app -> listen -> graceful close.
// Everything else lives in app.ts, which tests build without listening.
import { pathToFileURL } from 'node:url'
import closeWithGrace from 'close-with-grace'
import type { FastifyBaseLogger } from 'fastify'
import { buildApp } from './app.js'
import { createBedrockClient, resolveRegion } from './bedrock/client.js'
import { ConfigError, loadConfig, type Config } from './config.js'
import { createLogger } from './logger.js'
import { createRedis } from './redis.js'

export async function startServer (config: Config): Promise<{ close: () => Promise<void>, url: string }> {
  const logger = createLogger(config.logLevel)
  const bedrock = createBedrockClient(config)
  const region = await resolveRegion(bedrock)
  if (region === undefined) {
    throw new ConfigError(['No AWS region: set AWS_REGION (or AWS_DEFAULT_REGION, or a region in your AWS profile)'])
  }
  const redis = config.redisUrl !== undefined ? createRedis(config.redisUrl, logger) : undefined
  const app = await buildApp(config, { bedrock, logger: logger as FastifyBaseLogger, ...(redis !== undefined ? { redis } : {}) })
  const url = await app.listen({ port: config.port, host: config.host })
  logger.info({ region, endpoint: config.endpoint ?? 'aws', model: config.defaultModelId, allowedModels: [...config.allowedModels], redis: redis !== undefined }, 'bedrock-sse-proxy ready')
  return {
    url,
    close: async () => {
      await app.close()
      bedrock.destroy()
      redis?.disconnect()
    },
  }
}

async function main (): Promise<void> {
  let config: Config
  try {
    config = loadConfig(process.env)
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`)
    process.exit(1)
  }
  try {
    const server = await startServer(config)
    closeWithGrace({ delay: config.shutdownTimeoutMs }, async function shutdown ({ signal, err }) {
      if (err !== undefined) process.stderr.write(`fatal: ${err.stack ?? String(err)}\n`)
      else process.stderr.write(`${String(signal)} received, closing\n`)
      await server.close()
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
