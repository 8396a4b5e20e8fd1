// `npm run demo`: the embedded default. Starts the local Bedrock Runtime emulator and the
// proxy wired to it with the real AWS SDK (dummy credentials: the emulator does not check
// signatures), and serves the demo page at /. No AWS account needed.
import { pathToFileURL } from 'node:url'
import type { FastifyInstance } from 'fastify'
import { composeApp } from './app.js'
import { loadConfig, type Env } from './config.js'
import { startEmulator, type Emulator } from './emulator/index.js'

export interface Demo {
  url: string
  app: FastifyInstance
  emulator: Emulator
  close: () => Promise<void>
}

export interface DemoOptions {
  /** Proxy port (default: PORT or 3000; 0 = random). */
  port?: number
  host?: string
  /** Emulator pacing per chunk (default 20 ms: looks like a real model). */
  frameDelayMs?: number
  env?: Env
}

export async function startDemo (opts: DemoOptions = {}): Promise<Demo> {
  const emulator = await startEmulator({ port: 0, frameDelayMs: opts.frameDelayMs ?? 20 })
  const config = loadConfig({
    BEDROCK_MODEL_ID: 'demo.emulated-model-v1:0',
    BEDROCK_ALLOWED_MODELS: 'demo.emulated-model-v1:0,demo.other-model-v1:0',
    ...process.env,
    ...opts.env,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emulator.url,
    DEMO_PAGE: 'true',
    ...(opts.port !== undefined ? { PORT: String(opts.port) } : {}),
    ...(opts.host !== undefined ? { HOST: opts.host } : {}),
  })
  // Dummy credentials for the emulator only; never used against AWS (the endpoint is local).
  process.env.AWS_ACCESS_KEY_ID ??= 'demo'
  process.env.AWS_SECRET_ACCESS_KEY ??= 'demo'
  const app = await composeApp(config)
  const url = await app.listen({ port: config.port, host: config.host, backlog: config.listenBacklog })
  return {
    url,
    app,
    emulator,
    close: async () => {
      await app.close()
      await emulator.close()
    },
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const demo = await startDemo()
  process.stdout.write(`\nDemo ready: open ${demo.url}/ in a browser (emulated Bedrock at ${demo.emulator.url})\n` +
    `Or: curl -N '${demo.url}/v1/converse-stream?prompt=hello'\n\n`)
  let closing = false
  const stop = (): void => {
    if (closing) process.exit(1)
    closing = true
    demo.close().then(() => process.exit(0), () => process.exit(1))
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}
