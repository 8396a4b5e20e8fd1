// Where the memory of a waiting stream goes (issue 10: 10,000 waiting streams in 512 MiB).
// Starts the emulator and the proxy as separate processes (as npm run bench does), opens
// N streams whose first token comes 10 minutes later from this process, waits until every
// upstream call is waiting, then prints the proxy's RSS (anonymous and file-backed), V8's
// heap spaces and external memory (from /metrics), and, with --snapshot, writes a heap
// snapshot of the proxy and prints what it holds per stream, by constructor.
//
//   node --import tsx bench/hold-memory.ts --n 10000 [--node-flags "--max-semi-space-size=1"]
//     [--env KEY=VALUE,...] [--snapshot] [--dist] [--path proxy|obvious-relay] [--watch SECONDS]
//     [--memory-limit-mib 512]
// --dist runs the proxy as `npm start` does (its node flags included). --memory-limit-mib starts
// it in a memory cgroup of that size, as a container with a memory limit would (root only;
// cgroup v1 or v2): Node sizes its heap limit from it.
import http from 'node:http'
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { memoryCgroup } from './cgroup.js'
import { PROXY_LIMITS_OFF, startArgs } from './paths/proxy.js'
import { MODEL_ID } from './paths/types.js'
import { establishedOnPort, freePort, rssBytes, sleep, startChild, waitForPort, type Child } from './proc.js'
import { summarizeSnapshot } from './snapshot-summary.js'

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '10000' },
    'node-flags': { type: 'string', default: '' },
    env: { type: 'string', default: '' },
    snapshot: { type: 'boolean', default: false },
    dist: { type: 'boolean', default: false },
    path: { type: 'string', default: 'proxy' },
    watch: { type: 'string', default: '0' },
    'memory-limit-mib': { type: 'string', default: '0' },
  },
})
const N = Number(values.n)
const ROOT = new URL('..', import.meta.url).pathname
const MiB = 2 ** 20

function memoryOf (pid: number): Record<string, number> {
  const out: Record<string, number> = {}
  if (!existsSync(`/proc/${pid}/status`)) return out // the server is gone (killed by its memory limit)
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const m = /^(VmRSS|RssAnon|RssFile|VmHWM):\s+(\d+) kB/.exec(line)
    if (m !== null) out[m[1] as string] = Number(m[2]) * 1024
  }
  return out
}

// One kept-alive connection for /metrics: with 10,000 streams held the proxy may be at its
// file limit and refuse a new one.
const metricsAgent = new http.Agent({ keepAlive: true, maxSockets: 1 })

async function metrics (url: string): Promise<Record<string, number>> {
  const text = await new Promise<string>((resolve) => {
    http.get(`${url}/metrics`, { agent: metricsAgent }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { body += c })
      res.on('end', () => resolve(body))
    }).on('error', (err) => { process.stdout.write(`  /metrics failed: ${err.message}\n`); resolve('') })
  })
  const out: Record<string, number> = {}
  for (const line of text.split('\n')) {
    const m = /^(nodejs_heap_size_used_bytes|nodejs_heap_size_total_bytes|nodejs_external_memory_bytes|nodejs_heap_space_size_total_bytes|nodejs_heap_space_size_used_bytes)(\{space="(\w+)"\})? (\S+)/.exec(line)
    if (m !== null) out[m[3] !== undefined ? `${m[1] as string}.${m[3]}` : m[1] as string] = Number(m[4])
  }
  return out
}

function nativeHeap (pid: number): string {
  // RSS of malloc's heap ([heap], brk) and of the anonymous mappings (V8's pages, malloc arenas).
  let current = ''
  const sizes: Record<string, number> = {}
  if (!existsSync(`/proc/${pid}/smaps`)) return 'gone'
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line)
    if (head !== null) { current = head[3] === '' ? 'anon' : (head[3] ?? ''); continue }
    const rss = /^Rss:\s+(\d+) kB/.exec(line)
    if (rss !== null && (current === '[heap]' || current === 'anon')) sizes[current] = (sizes[current] ?? 0) + Number(rss[1]) / 1024
  }
  return Object.entries(sizes).map(([k, v]) => `${k} ${v.toFixed(1)} MiB`).join(', ')
}

function report (label: string, pid: number, m: Record<string, number>): Record<string, number> {
  const mem = memoryOf(pid)
  process.stdout.write(`${label}: ${nativeHeap(pid)}\n`)
  const f = (b: number | undefined): string => ((b ?? 0) / MiB).toFixed(1)
  process.stdout.write(`${label}: RSS ${f(mem['VmRSS'])} MiB (anon ${f(mem['RssAnon'])}, file ${f(mem['RssFile'])}), heap used ${f(m['nodejs_heap_size_used_bytes'])} / total ${f(m['nodejs_heap_size_total_bytes'])}, external ${f(m['nodejs_external_memory_bytes'])}\n`)
  const spaces = Object.keys(m).filter((k) => k.startsWith('nodejs_heap_space_size_total_bytes.'))
  process.stdout.write(`  spaces (total/used MiB): ${spaces.map((k) => { const s = k.split('.')[1] ?? ''; return `${s} ${f(m[k])}/${f(m[`nodejs_heap_space_size_used_bytes.${s}`])}` }).join(', ')}\n`)
  return { ...mem, ...m }
}

const emulatorPort = await freePort()
const emulator = startChild({
  name: 'emulator',
  command: process.execPath,
  args: ['--import', 'tsx', 'src/emulator/main.ts'],
  env: { EMULATOR_PORT: String(emulatorPort), EMULATOR_FRAME_DELAY_MS: '20', NODE_ENV: 'production' },
  cwd: ROOT,
})
await waitForPort(emulatorPort, emulator)
const emulatorUrl = `http://127.0.0.1:${emulatorPort}`

const port = await freePort()
const extraEnv = Object.fromEntries(values.env.split(',').filter((s) => s !== '').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]))
const nodeFlags = values['node-flags'].split(' ').filter((s) => s !== '')
const isProxy = values.path === 'proxy'
const entry = isProxy ? (values.dist ? startArgs() : ['--import', 'tsx', 'src/server.ts']) : ['--import', 'tsx', 'bench/servers/obvious-relay.ts']
const nodeArgs = [...nodeFlags, ...(values.snapshot ? ['--heapsnapshot-signal=SIGWINCH'] : []), ...entry]
const limitMib = Number(values['memory-limit-mib'])
const cgroup = limitMib > 0 ? memoryCgroup(limitMib, 'bench-hold') : undefined
const server: Child = startChild({
  name: 'server',
  // In the cgroup before node starts, so V8 sizes its heap from the limit as in a container.
  ...(cgroup === undefined ? { command: process.execPath, args: nodeArgs } : cgroup.wrap(process.execPath, nodeArgs)),
  env: {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    EMULATOR_URL: emulatorUrl,
    PORT: String(port),
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emulatorUrl,
    BEDROCK_MODEL_ID: MODEL_ID,
    ...PROXY_LIMITS_OFF,
    UPSTREAM_FIRST_EVENT_TIMEOUT_MS: '900000',
    UPSTREAM_IDLE_TIMEOUT_MS: '900000',
    ...extraEnv,
  },
  cwd: ROOT,
})
await waitForPort(port, server)
const url = `http://127.0.0.1:${port}`
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity })

// Response statuses of the held streams: 503 server_overloaded once the heap bound is reached.
const statuses = new Map<number, number>()

/** Opens one stream and resolves on its first body byte (or its end). */
async function open (prompt: string, signal: AbortSignal, keep: boolean): Promise<void> {
  await new Promise<void>((resolve) => {
    const path = isProxy ? `/v1/converse-stream?prompt=${encodeURIComponent(prompt)}` : `/chat?prompt=${encodeURIComponent(prompt)}`
    const req = http.request(`${url}${path}`, { agent, signal }, (res) => {
      if (keep) statuses.set(res.statusCode ?? 0, (statuses.get(res.statusCode ?? 0) ?? 0) + 1)
      res.once('data', () => resolve())
      res.on('data', () => {})
      res.on('end', resolve)
      res.on('error', () => resolve())
      if (!keep) res.on('end', resolve)
    })
    req.on('error', () => resolve())
    req.end()
    if (!isProxy) setTimeout(resolve, 20) // the obvious relay sends nothing before the first token
  })
}

/** Calls the emulator is answering (its /health `open`). */
async function openCalls (): Promise<number> {
  try {
    const health = await (await fetch(`http://127.0.0.1:${emulatorPort}/health`, { signal: AbortSignal.timeout(5000) })).json() as { open?: unknown }
    return typeof health.open === 'number' ? health.open : 0
  } catch {
    return 0
  }
}

/** Has the server write a heap snapshot (--heapsnapshot-signal=SIGWINCH: close-with-grace exits on SIGUSR2) and returns its path once written. */
async function snapshot (): Promise<string | undefined> {
  const before = new Set(readdirSync(ROOT).filter((f) => f.endsWith('.heapsnapshot')))
  process.kill(server.pid, 'SIGWINCH')
  for (let i = 0; i < 600; i++) {
    await sleep(1000)
    const found = readdirSync(ROOT).find((f) => f.endsWith('.heapsnapshot') && !before.has(f))
    if (found === undefined) continue
    const size = statSync(`${ROOT}${found}`).size
    await sleep(2000)
    if (size > 0 && statSync(`${ROOT}${found}`).size === size) {
      process.stdout.write(`snapshot ${found}\n`)
      return `${ROOT}${found}`
    }
  }
  return undefined
}

const abort = new AbortController()
await open('/stamped 2 0', abort.signal, false)
await sleep(1000)
const idle = report('idle', server.pid, isProxy ? await metrics(url) : {})
const idleSnapshot = values.snapshot ? await snapshot() : undefined

const started = Date.now()
const keepMetricsSocket = setInterval(() => { metrics(url).catch(() => {}) }, 10_000)
let next = 0
await Promise.all(Array.from({ length: 256 }, async () => {
  while (next < N) {
    next++
    await open('/stamped 1 0 600000', abort.signal, true)
  }
}))
// Settled: every upstream call is waiting (or no new one for 5 s). The emulator's /health
// counts calls; connections are fewer when calls share them (BEDROCK_HTTP=http2-shared).
let seen = 0
let still = 0
while (still < 20) {
  await sleep(500)
  const now = await openCalls()
  still = now === seen ? still + 1 : 0
  seen = now
  if (now >= N) break
}
process.stdout.write(`${N} streams opened in ${((Date.now() - started) / 1000).toFixed(1)} s, ${seen} upstream calls on ${establishedOnPort(emulatorPort)} connections; HTTP statuses ${[...statuses].map(([code, n]) => `${code}: ${n}`).join(', ')}\n`)
await sleep(2000)
clearInterval(keepMetricsSocket)
const held = report('held', server.pid, isProxy ? await metrics(url) : {})
for (let t = 5; t <= Number(values.watch); t += 5) {
  await sleep(5000)
  report(`held +${t} s`, server.pid, isProxy ? await metrics(url) : {})
}
const perStream = (k: string): string => (((held[k] ?? 0) - (idle[k] ?? 0)) / N / 1024).toFixed(2)
process.stdout.write(`per stream KiB: RSS ${perStream('VmRSS')}, anon ${perStream('RssAnon')}, heap used ${perStream('nodejs_heap_size_used_bytes')}, heap total ${perStream('nodejs_heap_size_total_bytes')}, external ${perStream('nodejs_external_memory_bytes')}\n`)
process.stdout.write(`RESULT n=${N} rss_idle_mib=${((idle['VmRSS'] ?? 0) / MiB).toFixed(1)} rss_held_mib=${((held['VmRSS'] ?? 0) / MiB).toFixed(1)} kib_per_stream=${perStream('VmRSS')} rss_bench_mib=${((rssBytes(server.pid) ?? 0) / MiB).toFixed(1)}\n`)

if (values.snapshot) {
  const held = await snapshot()
  if (held !== undefined && idleSnapshot !== undefined) process.stdout.write(summarizeSnapshot(held, N, idleSnapshot))
}

const alive = (() => { try { process.kill(server.pid, 0); return true } catch { return false } })()
process.stdout.write(`server ${alive ? 'alive' : 'gone'}${cgroup !== undefined ? `; cgroup: ${cgroup.events()}` : ''}\n`)

abort.abort()
agent.destroy()
await server.stop()
await emulator.stop()
cgroup?.remove()
process.exit(0)
