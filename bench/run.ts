// npm run bench: the cost of the stream pipeline and of the replay buffer, in memory and
// on Redis. Everything runs on loopback: the real SDK (HTTP/2) -> emulator, proxy on
// port 0, a plain HTTP/1.1 client reading the SSE. Results go to stdout as Markdown;
// BENCHMARKS.md keeps the numbers with the machine and date.
import { spawn, type ChildProcess } from 'node:child_process'
import http from 'node:http'
import os from 'node:os'
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime'
import type { FastifyBaseLogger } from 'fastify'
import { composeApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { startEmulator, textScenario, type Emulator } from '../src/emulator/index.js'
import { createLogger } from '../src/logger.js'
import { createRedis } from '../src/redis.js'

const EVENTS_PER_STREAM = 2000
const STREAMS = 20
const HELD_STREAMS = 200
const HELD_TEXT_CHARS = 20_000

async function withProxy<T> (emulator: Emulator, redisUrl: string | undefined, extraEnv: Record<string, string>, fn: (url: string) => Promise<T>): Promise<T> {
  const config = loadConfig({ AWS_REGION: 'us-east-1', LOG_LEVEL: 'silent', BEDROCK_MODEL_ID: 'bench.model-v1:0', RESUME_GRACE_MS: '0', RATE_LIMIT_MAX: '0', MAX_STREAMS_PER_KEY: '10000', MAX_OPEN_STREAMS: '10000', TOKEN_BUDGET_PER_KEY: '0', ...extraEnv, ...(redisUrl !== undefined ? { REDIS_URL: redisUrl } : {}) })
  const bedrock = new BedrockRuntimeClient({ region: 'us-east-1', endpoint: emulator.url, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } })
  const logger = createLogger('silent')
  const redis = redisUrl !== undefined ? createRedis(redisUrl, logger) : undefined
  if (redis !== undefined) await new Promise(resolve => redis.once('ready', resolve))
  const app = await composeApp(config, { bedrock, logger: logger as FastifyBaseLogger, ...(redis !== undefined ? { redis } : {}) })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  try {
    return await fn(url)
  } finally {
    await app.close()
    bedrock.destroy()
    redis?.disconnect()
  }
}

/** Reads one stream; returns ms to the first text event and to the end. */
async function readStream (url: string): Promise<{ firstTextMs: number, totalMs: number, bytes: number }> {
  const started = performance.now()
  return await new Promise((resolve, reject) => {
    http.get(`${url}/v1/converse-stream?prompt=bench`, (res) => {
      let firstTextMs = -1
      let bytes = 0
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length
        if (firstTextMs < 0 && chunk.includes('event: text')) firstTextMs = performance.now() - started
      })
      res.on('end', () => resolve({ firstTextMs, totalMs: performance.now() - started, bytes }))
      res.on('error', reject)
    }).on('error', reject)
  })
}

async function throughput (emulator: Emulator, redisUrl: string | undefined, extraEnv: Record<string, string>): Promise<{ usPerEvent: number, firstTextMs: number, cpuUsPerEvent: number }> {
  return await withProxy(emulator, redisUrl, extraEnv, async (url) => {
    emulator.enqueue(textScenario('w'.repeat(EVENTS_PER_STREAM * 8), { chunkChars: 8, frameDelayMs: 0 }))
    await readStream(url) // warm-up
    let totalMs = 0
    let firstTextMs = 0
    const cpu0 = process.cpuUsage()
    for (let i = 0; i < STREAMS; i++) {
      emulator.enqueue(textScenario('w'.repeat(EVENTS_PER_STREAM * 8), { chunkChars: 8, frameDelayMs: 0 }))
      const r = await readStream(url)
      totalMs += r.totalMs
      firstTextMs += r.firstTextMs
    }
    const cpu = process.cpuUsage(cpu0)
    const events = STREAMS * EVENTS_PER_STREAM
    return { usPerEvent: (totalMs * 1000) / events, firstTextMs: firstTextMs / STREAMS, cpuUsPerEvent: (cpu.user + cpu.system) / events }
  })
}

/** Holds many streams open after HELD_TEXT_CHARS of text each; measures heap per held stream. */
async function memoryPerStream (emulator: Emulator, redisUrl: string | undefined, extraEnv: Record<string, string>): Promise<{ heapKiBPerStream: number }> {
  return await withProxy(emulator, redisUrl, extraEnv, async (url) => {
    global.gc?.()
    const before = process.memoryUsage().heapUsed
    const held: http.ClientRequest[] = []
    await Promise.all(Array.from({ length: HELD_STREAMS }, async () => {
      emulator.enqueue({ steps: [...textScenario('m'.repeat(HELD_TEXT_CHARS), { chunkChars: 40, frameDelayMs: 0 }).steps.slice(0, -3), { hang: true }] })
      await new Promise<void>((resolve, reject) => {
        const req = http.get(`${url}/v1/converse-stream?prompt=bench`, (res) => {
          let seen = 0
          res.on('data', (chunk: Buffer) => {
            seen += chunk.length
            if (seen > HELD_TEXT_CHARS) resolve()
          })
        })
        req.on('error', reject)
        held.push(req)
      })
    }))
    global.gc?.()
    const after = process.memoryUsage().heapUsed
    for (const req of held) req.destroy()
    await new Promise(resolve => setTimeout(resolve, 200))
    return { heapKiBPerStream: (after - before) / HELD_STREAMS / 1024 }
  })
}

async function startRedisServer (): Promise<{ url: string, child: ChildProcess } | undefined> {
  const port = 6390 + Math.floor(Math.random() * 500)
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'ignore'] })
  const ok = await new Promise<boolean>((resolve) => {
    child.on('error', () => resolve(false))
    child.stdout?.on('data', (c: Buffer) => { if (c.toString().includes('Ready to accept')) resolve(true) })
    setTimeout(() => resolve(false), 5000)
  })
  return ok ? { url: `redis://127.0.0.1:${port}`, child } : undefined
}

const emulator = await startEmulator({ frameDelayMs: 0 })
const redis = await startRedisServer()
const rows: string[] = []
// The first row keeps no replay buffer (events dropped once read): the baseline the
// other rows add their buffer cost to.
const CASES: Array<[string, string | undefined, Record<string, string>]> = [
  ['no buffer (STREAM_BUFFER_MAX_BYTES=0)', undefined, { STREAM_BUFFER_MAX_BYTES: '0' }],
  ['memory buffer', undefined, {}],
  ['Redis buffer', redis?.url, {}],
]
await throughput(emulator, undefined, {}) // JIT warm-up for every case alike; discarded
for (const [name, url, env] of CASES) {
  if (name.startsWith('Redis') && url === undefined) { rows.push(`| ${name} | skipped: redis-server not found | | | |`); continue }
  const t = await throughput(emulator, url, env)
  const m = await memoryPerStream(emulator, url, env)
  rows.push(`| ${name} | ${t.usPerEvent.toFixed(1)} | ${t.cpuUsPerEvent.toFixed(1)} | ${t.firstTextMs.toFixed(1)} | ${m.heapKiBPerStream.toFixed(1)} |`)
}
redis?.child.kill('SIGKILL')
await emulator.close()

process.stdout.write(`Machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}
${STREAMS} sequential streams of ${EVENTS_PER_STREAM} text events (8 chars each, no pacing); ${HELD_STREAMS} streams held open after ${HELD_TEXT_CHARS} chars each.

| buffer | wall us/event (end to end) | proxy+emulator CPU us/event | ms to first text | heap KiB per held stream |
|---|---|---|---|---|
${rows.join('\n')}
`)
process.exit(0)
