// This proxy (dist/server.js, built from src/server.ts), production defaults except the limits, which would refuse
// the load: no rate limit, no stream caps, no token budget, no overload refusal.
import { readFileSync } from 'node:fs'
import { parseJson, sseRequest } from './sse-request.js'
import { MODEL_ID, nodeEnv, type PathSpec } from './types.js'

export const PROXY_LIMITS_OFF: Record<string, string> = {
  RATE_LIMIT_MAX: '0',
  MAX_STREAMS_PER_KEY: '100000',
  MAX_OPEN_STREAMS: '1000000',
  MAX_FOLLOWERS_PER_KEY: '100000',
  MAX_OPEN_FOLLOWERS: '1000000',
  TOKEN_BUDGET_PER_KEY: '0',
  PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0',
  PRESSURE_MAX_HEAP_BYTES: '0',
  PRESSURE_MAX_HEAP_PERCENT: '0',
  PRESSURE_MAX_RSS_PERCENT: '0',
  LOG_LEVEL: 'warn',
}

/**
 * Node's arguments as `npm start` (and the Docker image's CMD, test/docker.test.ts) run the
 * proxy, without the `.env` file: its V8 flags are part of what is measured.
 */
export function startArgs (): string[] {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } }
  const [node, ...args] = pkg.scripts.start.split(/\s+/)
  if (node !== 'node') throw new Error(`npm start does not run node: ${pkg.scripts.start}`)
  return args.filter((arg) => !arg.startsWith('--env-file'))
}

export const proxyPath: PathSpec = {
  id: 'proxy',
  label: 'this proxy',
  server: (ctx) => ({
    command: process.execPath,
    // Compiled, with the flags `npm start` and the Docker image run it with (the benchmark builds dist/ first).
    args: startArgs(),
    env: {
      ...nodeEnv(ctx),
      HOST: '127.0.0.1',
      AWS_ENDPOINT_URL_BEDROCK_RUNTIME: ctx.emulatorUrl,
      BEDROCK_MODEL_ID: MODEL_ID,
      ...PROXY_LIMITS_OFF,
      ...ctx.env,
    },
  }),
  openStream: async (target, prompt, observer, signal) => await sseRequest({
    url: `${target.url}/v1/converse-stream?prompt=${encodeURIComponent(prompt)}`,
    headers: target.apiKey !== undefined ? { authorization: `Bearer ${target.apiKey}` } : {},
    read (message) {
      if (message.event === 'text') return { text: (parseJson(message.data) as { text?: string } | undefined)?.text ?? '' }
      if (message.event === 'error') return { error: message.data }
      if (message.event === 'done') return { end: true }
      return undefined
    },
  }, observer, signal),
}

/** The same proxy with an upstream HTTP/1.1 connection per open call (the default multiplexes calls on HTTP/2). */
export const proxyHttp1Path: PathSpec = {
  ...proxyPath,
  id: 'proxy-http1',
  label: 'this proxy, upstream HTTP/1.1 keep-alive (BEDROCK_HTTP=http1)',
  server: (ctx) => {
    const command = proxyPath.server?.(ctx)
    if (command === undefined) throw new Error('the proxy path has a server')
    return { ...command, env: { ...command.env, BEDROCK_HTTP: 'http1', ...ctx.env } }
  },
}
