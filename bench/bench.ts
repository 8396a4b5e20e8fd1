// The orchestrator of issue 10's benchmark: for each path and concurrency, a fresh
// emulator and a fresh server under test, each its own process, pinned apart; a load
// client process per run; then the proxy's features one by one, and many streams held
// open on a slow first token. Returns every measured number; report.ts renders them.
import { execFileSync } from 'node:child_process'
import os from 'node:os'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { ClientMessage, HoldJob, HoldOpened, HoldResult, LoadJob, LoadResult } from './job.js'
import { PATHS } from './paths/index.js'
import type { PathId, Target } from './paths/types.js'
import {
  cpuSeconds, detectPinning, establishedOnPort, freePort, pinSelf, rssBytes, sleep, startChild, waitForPort,
  type Child, type Pinning,
} from './proc.js'
import { fitCpu, type CpuFit } from './stats.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const BENCH_KEY = 'bench-key-0123456789abcdef0123456789abcdef'
const METRICS_TOKEN = 'bench-metrics-token-0123456789abcdef0123'

export interface BenchOptions {
  paths: PathId[]
  concurrency: number[]
  /** Stream lengths in tokens, run at every concurrency; two or more give the CPU fit. The last one is the headline. */
  lengths: number[]
  frameDelayMs: number
  warmupMs: number
  measureMs: number
  drainMs: number
  /** The proxy's features, one variant at a time, at this concurrency; undefined: skipped. */
  featuresConcurrency: number | undefined
  /** Streams held open on a slow first token, per path; undefined: skipped. */
  hold: { count: number, paths: PathId[] } | undefined
  /**
   * Rounds of every path again at the highest concurrency, headline length only, one path
   * after the other in each round (0 or 1: none). On a shared machine tokens/s drifts by
   * more than the differences between paths; interleaved rounds see the same drift, so
   * their spread and the ratio within each round are what a comparison can rest on.
   */
  rounds?: number
  log: (line: string) => void
}

/** One path's run in one of the interleaved rounds. */
export interface RoundRun { round: number, path: PathId, label: string, run: LoadResult }

export interface RunGroup {
  path: PathId
  label: string
  concurrency: number
  /** One per stream length, in options.lengths order. */
  runs: LoadResult[]
  fit: CpuFit | undefined
}

export interface FeatureRow { name: string, group: RunGroup }

export interface HoldRow {
  path: PathId
  label: string
  requested: number
  opened: HoldOpened
  /** Upstream calls the emulator was answering once the server settled (its /health `open`). */
  upstreamCalls: number
  /** Upstream connections the emulator saw established then (fewer than calls when they share). */
  upstreamConnections: number
  settleS: number
  rssIdleBytes: number
  rssHeldBytes: number
  emulatorRssBytes: number
  result: HoldResult | undefined
}

export interface Failure { what: string, error: string }

export interface Machine { cpuModel: string, cpus: number, ramGiB: number, node: string, kernel: string, commit: string, date: string }

export interface BenchResult {
  machine: Machine
  pinning: string
  options: Omit<BenchOptions, 'log'>
  durationS: number
  groups: RunGroup[]
  /** The interleaved rounds (options.rounds), in the order they ran. */
  rounds: RoundRun[]
  features: FeatureRow[]
  hold: HoldRow[]
  failures: Failure[]
}

export function describeMachine (): Machine {
  const git = (...args: string[]): string => {
    try { return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() } catch { return '' }
  }
  let cpuModel = os.cpus()[0]?.model ?? 'unknown'
  try {
    const line = execFileSync('lscpu', { encoding: 'utf8' }).split('\n').find((l) => l.startsWith('Model name:'))
    if (line !== undefined) cpuModel = line.slice(line.indexOf(':') + 1).trim()
  } catch {}
  const dirty = git('status', '--porcelain', '--untracked-files=no') !== '' ? ' (with uncommitted changes)' : ''
  return {
    cpuModel,
    cpus: os.availableParallelism(),
    ramGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    kernel: os.release(),
    commit: `${git('rev-parse', '--short', 'HEAD')}${dirty}`,
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
  }
}

interface Emulator { child: Child, url: string, port: number }

async function startEmulatorProcess (pinning: Pinning, frameDelayMs: number): Promise<Emulator> {
  const port = await freePort()
  const child = startChild({
    name: 'emulator',
    command: process.execPath,
    // Compiled (runBench builds dist/ first): the harness core carries every path's frames.
    args: ['dist/emulator/main.js'],
    env: { EMULATOR_PORT: String(port), EMULATOR_FRAME_DELAY_MS: String(frameDelayMs), NODE_ENV: 'production' },
    cwd: ROOT,
    cpu: pinning.harnessCpu,
  })
  await waitForPort(port, child)
  return { child, url: `http://127.0.0.1:${port}`, port }
}

interface Server { child: Child, url: string }

async function startServer (path: PathId, emulator: Emulator, env: Record<string, string>, pinning: Pinning): Promise<Server | undefined> {
  const spec = PATHS[path]
  if (spec.server === undefined) return undefined
  const port = await freePort()
  const cmd = spec.server({ emulatorUrl: emulator.url, port, env })
  const child = startChild({ name: path, command: cmd.command, args: cmd.args, env: cmd.env, cwd: ROOT, cpu: pinning.serverCpu })
  await waitForPort(port, child)
  return { child, url: `http://127.0.0.1:${port}` }
}

async function startRedis (pinning: Pinning): Promise<{ child: Child, url: string }> {
  const port = await freePort()
  const child = startChild({
    name: 'redis-server',
    command: 'redis-server',
    args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    env: {},
    cwd: ROOT,
    cpu: pinning.harnessCpu,
  })
  await waitForPort(port, child, 10_000)
  return { child, url: `redis://127.0.0.1:${port}` }
}

/** Starts a load client with `job`, hands each JSON line it prints to onMessage; resolves when it exits. */
async function runClient (job: LoadJob | HoldJob, cpu: number | undefined, timeoutMs: number,
  onMessage: (m: ClientMessage, child: Child) => void): Promise<void> {
  const child = startChild({
    name: 'load-client',
    command: process.execPath,
    args: ['--import', 'tsx', 'bench/load-client.ts'],
    env: { BENCH_JOB: JSON.stringify(job), NODE_ENV: 'production' },
    cwd: ROOT,
    cpu,
    stdin: job.mode === 'hold',
  })
  const lines = createInterface({ input: child.process.stdout! })
  lines.on('line', (line) => {
    let message: ClientMessage
    try { message = JSON.parse(line) as ClientMessage } catch { return } // not ours (a library's console output)
    onMessage(message, child)
  })
  const killer = setTimeout(() => { child.process.kill('SIGKILL') }, timeoutMs)
  const code = await new Promise<number | null>((resolve) => child.process.once('exit', (c) => resolve(c)))
  clearTimeout(killer)
  if (code !== 0) throw new Error(`load client exited with ${String(code)}: ${child.stderrTail().trim().split('\n').slice(-3).join(' | ')}`)
}

async function runGroup (path: PathId, concurrency: number, env: Record<string, string>, options: BenchOptions,
  pinning: Pinning, extras: { apiKey?: string, others?: Record<string, number> } = {}): Promise<RunGroup> {
  const emulator = await startEmulatorProcess(pinning, options.frameDelayMs)
  let server: Server | undefined
  try {
    server = await startServer(path, emulator, env, pinning)
    const target: Target = { url: server?.url ?? emulator.url, emulatorUrl: emulator.url, apiKey: extras.apiKey }
    const runs: LoadResult[] = []
    for (const tokens of options.lengths) {
      const job: LoadJob = {
        mode: 'load',
        path,
        target,
        concurrency,
        tokens,
        frameDelayMs: options.frameDelayMs,
        warmupMs: options.warmupMs,
        measureMs: options.measureMs,
        drainMs: options.drainMs,
        watch: { server: server?.child.pid, emulator: emulator.child.pid, others: extras.others },
      }
      // sdk-direct: the client is the path's process, on the server's CPU.
      const cpu = server === undefined ? pinning.serverCpu : pinning.harnessCpu
      const streamMs = (tokens + 4) * options.frameDelayMs
      const timeoutMs = Math.max(options.warmupMs, streamMs) + options.measureMs + options.drainMs + 60_000
      let result: LoadResult | undefined
      await runClient(job, cpu, timeoutMs, (m) => { if (m.type === 'load') result = m })
      if (result === undefined) throw new Error('load client printed no result')
      options.log(`  ${path} C=${concurrency} ${tokens} tokens: ${Math.round(result.tokensPerS)} tokens/s, added p50 ${result.addedMs.p50.toFixed(2)} p99 ${result.addedMs.p99.toFixed(2)} ms` +
        `${result.emulatorWaitMs.count > 0 ? ` (from the stamp ${result.addedFromStampMs.p50.toFixed(2)} / ${result.addedFromStampMs.p99.toFixed(2)})` : ''}, ` +
        `${result.incomplete} incomplete of ${result.streamsStarted}, server CPU ${(100 * result.cpuS.server / result.windowS).toFixed(0)}%`)
      runs.push(result)
    }
    const [short, long] = [runs[0], runs.at(-1)]
    const point = (r: LoadResult): { cpuS: number, streams: number, tokens: number } => ({ cpuS: r.cpuS.server, streams: r.streamsStarted, tokens: r.tokens })
    const fit = short !== undefined && long !== undefined && short !== long ? fitCpu(point(short), point(long)) : undefined
    return { path, label: PATHS[path].label, concurrency, runs, fit }
  } finally {
    await server?.child.stop()
    await emulator.child.stop()
  }
}

/** Calls the emulator is answering now (its /health `open`); 0 when it cannot say. */
async function openCalls (emulatorUrl: string): Promise<number> {
  try {
    const health = await (await fetch(`${emulatorUrl}/health`, { signal: AbortSignal.timeout(5000) })).json() as { open?: unknown }
    return typeof health.open === 'number' ? health.open : 0
  } catch {
    return 0
  }
}

async function runHold (path: PathId, count: number, options: BenchOptions, pinning: Pinning): Promise<HoldRow> {
  const emulator = await startEmulatorProcess(pinning, options.frameDelayMs)
  // Nothing may time out while the streams wait (the first token comes after 10 minutes).
  const env = { UPSTREAM_FIRST_EVENT_TIMEOUT_MS: '900000', UPSTREAM_IDLE_TIMEOUT_MS: '900000' }
  let server: Server | undefined
  try {
    server = await startServer(path, emulator, env, pinning)
    if (server === undefined) throw new Error(`${path} has no server to hold streams in`)
    const target: Target = { url: server.url, emulatorUrl: emulator.url }
    const check = await PATHS[path].openStream(target, '/stamped 2 0', { firstByte: () => {}, tokens: () => {} }, AbortSignal.timeout(20_000))
    if (!check.ok) throw new Error(`check stream failed: ${check.error}`)
    await sleep(1000)
    const rssIdleBytes = rssBytes(server.child.pid) ?? 0
    const serverPid = server.child.pid
    const job: HoldJob = { mode: 'hold', path, target, count, openConcurrency: 256, firstTokenDelayMs: 600_000, deadlineMs: 240_000 }
    let row: HoldRow | undefined
    let result: HoldResult | undefined
    await runClient(job, pinning.harnessCpu, 300_000, (m, child) => {
      if (m.type === 'hold') result = m
      if (m.type !== 'opened') return
      // Settled: every upstream connection is up, or the server has gone quiet (bounded).
      const settleStarted = Date.now()
      const settle = async (): Promise<void> => {
        let quiet = 0
        let cpu = cpuSeconds(serverPid) ?? 0
        let calls = 0
        while (Date.now() - settleStarted < 120_000) {
          await sleep(500)
          const now = cpuSeconds(serverPid) ?? 0
          const seen = await openCalls(emulator.url)
          // Quiet: the server idle and no new upstream call (a dropped SYN is retried seconds later).
          quiet = now - cpu < 0.025 && seen === calls ? quiet + 1 : 0
          cpu = now
          calls = seen
          if ((calls >= count && quiet >= 2) || quiet >= 10) break
        }
        await sleep(500)
        row = {
          path,
          label: PATHS[path].label,
          requested: count,
          opened: m,
          upstreamCalls: await openCalls(emulator.url),
          upstreamConnections: establishedOnPort(emulator.port),
          settleS: (Date.now() - settleStarted) / 1000,
          rssIdleBytes,
          rssHeldBytes: rssBytes(serverPid) ?? 0,
          emulatorRssBytes: rssBytes(emulator.child.pid) ?? 0,
          result: undefined,
        }
        child.process.stdin?.write('close\n')
      }
      settle().catch((err: unknown) => { options.log(`  hold: settling failed: ${String(err)}`); child.process.stdin?.write('close\n') })
    })
    if (row === undefined) throw new Error('the hold client never reported its streams open')
    row.result = result
    options.log(`  hold ${path}: ${row.upstreamCalls} upstream calls on ${row.upstreamConnections} connections, RSS ${(row.rssIdleBytes / 2 ** 20).toFixed(0)} -> ${(row.rssHeldBytes / 2 ** 20).toFixed(0)} MiB`)
    return row
  } finally {
    await server?.child.stop()
    await emulator.child.stop()
  }
}

export async function runBench (options: BenchOptions): Promise<BenchResult> {
  const started = Date.now()
  const { log: _log, ...settings } = options
  const machine = describeMachine() // before pinning: it counts the CPUs this process may use
  const pinning = detectPinning()
  pinSelf(pinning)
  options.log(pinning.note)
  // The proxy runs as production runs it (npm start, the Docker image): compiled, from dist/.
  options.log('building dist/ (npm run build)')
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] })
  const result: BenchResult = {
    machine,
    pinning: pinning.note,
    options: settings,
    durationS: 0,
    groups: [],
    rounds: [],
    features: [],
    hold: [],
    failures: [],
  }
  const attempt = async (what: string, fn: () => Promise<void>): Promise<void> => {
    options.log(what)
    try { await fn() } catch (err) {
      const error = err instanceof Error ? err.message : String(err)
      options.log(`  FAILED: ${error}`)
      result.failures.push({ what, error })
    }
  }

  for (const path of options.paths) {
    for (const concurrency of options.concurrency) {
      await attempt(`${path} at C=${concurrency}`, async () => {
        result.groups.push(await runGroup(path, concurrency, {}, options, pinning))
      })
    }
  }

  const top = Math.max(...options.concurrency)
  const headline = options.lengths.at(-1)
  const rounds = options.rounds ?? 0
  if (rounds >= 2 && headline !== undefined) {
    const one = { ...options, lengths: [headline] }
    for (let round = 1; round <= rounds; round++) {
      for (const path of options.paths) {
        await attempt(`round ${round}: ${path} at C=${top}`, async () => {
          const group = await runGroup(path, top, {}, one, pinning)
          const run = group.runs[0]
          if (run !== undefined) result.rounds.push({ round, path, label: group.label, run })
        })
      }
    }
  }

  if (options.featuresConcurrency !== undefined) {
    const c = options.featuresConcurrency
    const variants: Array<{ name: string, env: Record<string, string>, apiKey?: string, redis?: boolean, path?: PathId }> = [
      { name: 'defaults: memory buffer, no auth (loopback), /metrics on', env: {} },
      { name: 'no replay buffer (STREAM_BUFFER_MAX_BYTES=0)', env: { STREAM_BUFFER_MAX_BYTES: '0' } },
      { name: 'every call through the SDK\'s whole pipeline (BEDROCK_CALLS=sdk)', env: { BEDROCK_CALLS: 'sdk' } },
      { name: 'replay buffer on Redis (REDIS_URL, local redis-server)', env: {}, redis: true },
      { name: 'auth: API_KEYS + Bearer, /metrics on (METRICS_TOKEN)', env: { API_KEYS: BENCH_KEY, METRICS_TOKEN }, apiKey: BENCH_KEY },
      { name: 'auth: API_KEYS + Bearer, /metrics off', env: { API_KEYS: BENCH_KEY }, apiKey: BENCH_KEY },
      { name: 'OpenAI surface: POST /v1/chat/completions (stream: true)', env: {}, path: 'proxy-openai' },
      { name: 'AI SDK surface: POST /v1/ui-chat', env: {}, path: 'proxy-ui-chat' },
    ]
    for (const variant of variants) {
      await attempt(`proxy feature at C=${c}: ${variant.name}`, async () => {
        const redis = variant.redis === true ? await startRedis(pinning) : undefined
        try {
          const env = { ...variant.env, ...(redis !== undefined ? { REDIS_URL: redis.url } : {}) }
          const group = await runGroup(variant.path ?? 'proxy', c, env, options, pinning, {
            apiKey: variant.apiKey,
            others: redis !== undefined ? { 'redis-server': redis.child.pid } : undefined,
          })
          result.features.push({ name: variant.name, group })
        } finally {
          await redis?.child.stop()
        }
      })
    }
  }

  if (options.hold !== undefined) {
    for (const path of options.hold.paths) {
      const count = options.hold.count
      await attempt(`${count} streams held open on a slow first token: ${path}`, async () => {
        result.hold.push(await runHold(path, count, options, pinning))
      })
    }
  }
  result.durationS = (Date.now() - started) / 1000
  return result
}
