// A real redis-server per test file, on a free loopback port, no persistence. On a machine
// without redis-server the tests that need it are skipped with the reason, unless
// REQUIRE_REDIS=1 (set by .ci/run), which turns the skip into a failure.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import type { TestContext } from 'node:test'
import { Redis } from 'ioredis'
import type { Env } from '../src/config.js'
import type { Emulator } from '../src/emulator/index.js'
import { build, startTestEmulator, type Harness } from './helper.js'
import { freePort } from './support/net.js'

export const REDIS_BIN = process.env.REDIS_SERVER_BIN ?? 'redis-server'

export function redisAvailable (): boolean {
  return spawnSync(REDIS_BIN, ['--version'], { encoding: 'utf8' }).status === 0
}

/** Options for `test()`: skip with a reason when redis-server is missing, unless CI requires it. */
export function redisTestOptions (): { skip?: string } {
  if (redisAvailable()) return {}
  if (process.env.REQUIRE_REDIS === '1') throw new Error(`REQUIRE_REDIS=1 but ${REDIS_BIN} is not installed (apt-get install redis-server)`)
  return { skip: `${REDIS_BIN} not found: install redis-server to run the Redis tests` }
}

export interface RedisProcess {
  url: string
  port: number
  stop: () => Promise<void>
  start: () => Promise<void>
  /** A client for the test itself (inspecting keys); closed after the test. */
  client: () => Redis
}

export async function startRedis (t: TestContext): Promise<RedisProcess> {
  const port = await freePort()
  let child: ChildProcess | undefined
  const start = async (): Promise<void> => {
    child = spawn(REDIS_BIN, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] })
    await new Promise<void>((resolve, reject) => {
      let out = ''
      const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000)
      child?.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString()
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer)
          resolve()
        }
      })
      child?.on('exit', (code) => { clearTimeout(timer); reject(new Error(`redis-server exited (${String(code)}): ${out}`)) })
    })
  }
  const stop = async (): Promise<void> => {
    const c = child
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return // already gone: 'exit' will not fire again
    const exited = new Promise(resolve => c.once('exit', resolve))
    c.kill('SIGKILL')
    await exited
  }
  await start()
  t.after(stop)
  const url = `redis://127.0.0.1:${port}`
  const clients: Redis[] = []
  t.after(() => { for (const c of clients) c.disconnect() })
  const client = (): Redis => {
    const c = new Redis(url)
    c.on('error', () => {})
    clients.push(c)
    return c
  }
  return { url, port, stop, start, client }
}

/** Two proxy instances sharing one Redis and one emulated Bedrock, as behind a load balancer. */
export async function twoInstances (t: TestContext, env: Env = {}): Promise<{ redis: RedisProcess, emulator: Emulator, a: Harness, b: Harness }> {
  const redis = await startRedis(t)
  const emulator = await startTestEmulator(t)
  const a = await build(t, { env, sharedEmulator: emulator, redisUrl: redis.url })
  const b = await build(t, { env, sharedEmulator: emulator, redisUrl: redis.url })
  return { redis, emulator, a, b }
}
