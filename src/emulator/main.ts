// `npm run emulator`: a local Bedrock Runtime for the demo and for manual tests with curl.
import { startEmulator } from './server.js'
import type { EmulatorLogger } from './types.js'

function envInt (name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 0) {
    console.error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`)
    process.exit(1)
  }
  return value
}

// One JSON line per event, like pino, without making pino a requirement of the emulator.
const logger: EmulatorLogger = {
  info: (obj, msg) => console.log(JSON.stringify({ level: 'info', time: Date.now(), ...obj, msg })),
  warn: (obj, msg) => console.warn(JSON.stringify({ level: 'warn', time: Date.now(), ...obj, msg }, (_k, v: unknown) =>
    v instanceof Error ? { name: v.name, message: v.message } : v)),
}

const emulator = await startEmulator({
  port: envInt('EMULATOR_PORT', 4010),
  host: process.env['EMULATOR_HOST'] || '127.0.0.1',
  frameDelayMs: envInt('EMULATOR_FRAME_DELAY_MS', 20),
  logger,
})

console.log(`Bedrock Runtime emulator listening on ${emulator.url} (h2c and HTTP/1.1)
Point the proxy at it:
  AWS_ENDPOINT_URL_BEDROCK_RUNTIME=${emulator.url} AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test npm run dev
Try it:
  curl -s ${emulator.url}/health
  curl -s ${emulator.url}/model/demo/converse -H 'content-type: application/json' \\
    -d '{"messages":[{"role":"user","content":[{"text":"hello"}]}]}'
Slash commands in the prompt pick faults: /reasoning /redacted /tool /throttle /error /truncate /reset /slow /hang /tricky
and /stamped N D F: N deltas D ms apart, the first F ms late, each one's text its send time (the benchmark)`)

let closing = false
function shutdown (signal: string): void {
  if (closing) process.exit(1) // second signal: stop waiting
  closing = true
  console.log(`${signal}: closing the emulator`)
  emulator.close().then(() => process.exit(0), (err: unknown) => {
    console.error(err)
    process.exit(1)
  })
}
process.on('SIGINT', () => shutdown('SIGINT'))
process.on('SIGTERM', () => shutdown('SIGTERM'))
