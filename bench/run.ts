// npm run bench [-- flags]: issue 10's benchmark. Every flag also reads from the
// environment as BENCH_<NAME> (e.g. BENCH_C=1,100). Writes BENCHMARKS.md, benchmarks.svg
// and bench/last-run.json for a full run (or with --write); --quick prints only.
//
//   --c 1,100,1000          concurrencies
//   --paths a,b             obvious-relay, sdk-direct, proxy, proxy-http1, portkey, ai-sdk (default), proxy-openai, proxy-ui-chat
//   --tokens 10,50          stream lengths (two give the CPU fit; the last is the headline)
//   --frame-ms 20           emulator delay between frames
//   --warmup-ms 2000 --measure-ms 6000 --drain-ms 10000
//   --features-c 100        the proxy's feature variants at this C (0: skipped)
//   --hold 10000            streams held on a slow first token (0: skipped)
//   --hold-paths proxy,proxy-http1,obvious-relay
//   --rounds 3              every path again at the highest C, interleaved, for the spread (0: none)
//   --quick                 C=1,100, shorter windows, hold 1000, features at C=20, no files written
//   --write / --no-write
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { runBench, type BenchOptions } from './bench.js'
import { renderChart } from './chart.js'
import { MAIN_PATH_IDS, PATH_IDS, isPathId } from './paths/index.js'
import { startArgs } from './paths/proxy.js'
import type { PathId } from './paths/types.js'
import { killAllChildren } from './proc.js'
import { renderSection, updateBenchmarksMd } from './report.js'

const ROOT = new URL('..', import.meta.url)
const CHART_FILE = 'benchmarks.svg'

const HEAD = `# Benchmarks

\`npm run bench\` (bench/, issue 10). Every process is separate, on 127.0.0.1: the local Bedrock
emulator (the real event-stream wire protocol), the server under test, and a load client.
With two CPUs they are pinned with \`taskset\`: the server under test alone on one CPU, the
emulator and the load client on the other, so the server's figures are its own.

Paths, all loaded with the same streams (the TypeScript servers in \`bench/servers/\` run with
Node's own type stripping, so no path pays for a runtime transpiler):
- **obvious relay (baseline)**: \`bench/servers/obvious-relay.ts\`, the Fastify route users
  write themselves: default SDK client, \`for await\`, one \`reply.raw.write\` per delta.
- **SDK direct**: no HTTP hop; the load client calls the SDK itself (default settings), on the
  server's CPU. Its added latency is the SDK's alone, the floor for every other path.
- **this proxy**: \`${['node', ...startArgs()].join(' ')}\` (built first; the command \`npm start\`
  and the Docker image run, V8 flag included), production defaults except the limits
  (\`RATE_LIMIT_MAX=0\`, stream caps and \`MAX_OPEN_STREAMS\` raised, \`TOKEN_BUDGET_PER_KEY=0\`,
  \`PRESSURE_*=0\`), \`LOG_LEVEL=warn\`, loopback without keys (so \`/metrics\` is on), the
  replay buffer in memory with its default \`STREAM_TTL_MS\` (5 minutes after each stream ends,
  within \`ENDED_STREAMS_MAX_PERCENT\`, 25 % of the heap limit), upstream calls multiplexed on
  HTTP/2 connections, 100 per connection (the default \`BEDROCK_HTTP=http2-shared\`).
- **this proxy, upstream HTTP/1.1**: the same with \`BEDROCK_HTTP=http1\`, a keep-alive
  HTTP/1.1 connection per open call.
- **Portkey gateway** (\`@portkey-ai/gateway\`, \`--headless\`), pointed at the emulator with
  \`x-portkey-custom-host\`; it speaks OpenAI chat-completion chunks.
- **AI SDK route**: \`bench/servers/ai-sdk.ts\`, \`streamText\` on \`@ai-sdk/amazon-bedrock\`, piped
  as a UI message stream on \`node:http\`.

How each number is measured:
- The emulator writes each token's text as its send time (\`/stamped N D\`: \`<t:ms>\`, the
  host's monotonic clock at microsecond resolution, one clock for every process; the wall clock
  was used before 2026-12-03 20:40 UTC); the client parses each path's own wire format (eventsource-parser)
  and takes **added latency per token** = receive time - the time the token left the emulator:
  everything between the emulator and the client's read (SDK decoding, the server, both
  loopback hops). Over HTTP/1.1 a token leaves at its write, so that is its stamp. Over HTTP/2
  Node sends what a stream wrote only at the end of the event-loop turn, so a token stamped in
  a busy emulator turn waits in the emulator for the rest of it: the emulator logs when each
  turn's tokens left (a JS immediate queued after the turn's first stamped write runs right
  after the flush; \`GET /sent\`), and the client measures from then. That wait, the
  harness's own, is shown beside (**wait in the emulator**) and counted nowhere else; the paths
  with an HTTP/2 upstream are this proxy by default, the obvious relay and SDK direct. Runs
  before 2026-12-03 19:56 UTC measured from the stamp, that wait included.
- **C** streams are kept open: each of C workers runs streams back to back, started spread over
  one stream's length. A warm-up runs first; only the window counts. **tokens/s**: tokens
  received in the window / its length; **at model pace**: what C streams at the emulator's pace
  would deliver; **tokens per CPU-second of the server**: tokens/s divided by the share of a
  core the server used (SDK direct: its client process), the server's efficiency, which still
  compares paths when the harness core capped tokens/s. **TTFB**: request to the first body byte (SDK direct: \`send()\` resolving on the
  first event); **first token**: request to the first stamped token (the emulator sends
  \`messageStart\` one frame delay, the first token two, after the request). **incomplete**:
  streams started in the window without their path's end marker (error, cut, or still open
  when the drain deadline aborted them).
- **CPU** from \`/proc/<pid>/stat\` (utime + stime, 10 ms ticks) over the window, for the server,
  the emulator and the client. Two stream lengths at one C give two points of CPU per stream
  against tokens per stream: the slope is **CPU per token**, the intercept **CPU per stream**
  (set-up, the upstream call, the end). Small at C=1, where few ticks are counted: noisy there.
  **other CPU on the machine**: busy time from \`/proc/stat\` minus the measured processes, i.e.
  load from outside the benchmark (the orchestrator counts there too, a few %).
  **limit** flags a core at 90% or more: "server core full" is the server's own limit,
  "harness core full" means the emulator and client could not go faster, so the figure is a
  floor for the server, not its limit; "other load" means programs outside the benchmark took
  15% of a CPU or more in the window, so that row is disturbed.
- **RSS** from \`/proc/<pid>/statm\`: idle after one check stream, peak sampled every 100 ms in
  the window; per open stream = (peak - idle) / C. The proxy's includes the replay buffers it
  keeps for 5 minutes after each stream, within its bound (production defaults).
- **Held streams**: N streams whose first token comes 10 minutes later (the emulator sends
  \`messageStart\`, then nothing); RSS once every upstream call is waiting (the emulator's
  \`/health\` counts the calls it is answering; the connections they use are counted apart, as
  calls may share them) or the server has gone quiet; per waiting stream = (held - idle) / calls
  waiting. The proxy runs both with its default upstream (calls multiplexed on HTTP/2
  connections) and with \`BEDROCK_HTTP=http1\` (an HTTP/1.1 connection per open call). The proxy's
  upstream timeouts are raised for it; \`ulimit -n\` is raised for every child.
- **Interleaved rounds** (\`--rounds\`, 3 by default): after the tables' runs, every path runs
  again at the highest C, one path after the other, three times. On this machine one build's
  tokens/s at C=1000 varies from run to run by 10-20 %, more than some differences between paths;
  the rounds give each path's median and range, and its tokens/s divided by the baseline's and
  SDK direct's in the same round, minutes apart at most, where the drift mostly cancels.
- **Feature variants** run the proxy one setting (or surface) at a time at one C: the replay
  buffer off or on Redis, every call through the SDK's whole pipeline (\`BEDROCK_CALLS=sdk\`), auth, /metrics, and its OpenAI (\`POST /v1/chat/completions\`) and
  AI SDK (\`POST /v1/ui-chat\`) surfaces, the same pipeline in other wire formats, to compare
  with the Portkey gateway and the AI SDK route that speak those formats.
`

function list (value: string | undefined, fallback: number[]): number[] {
  if (value === undefined || value === '') return fallback
  return value.split(',').map((s) => Number(s.trim())).filter((v) => Number.isInteger(v) && v >= 0)
}

function pathList (value: string | undefined, fallback: PathId[]): PathId[] {
  if (value === undefined || value === '') return fallback
  const ids = value.split(',').map((s) => s.trim())
  const unknown = ids.filter((id) => !isPathId(id))
  if (unknown.length > 0) throw new Error(`unknown path(s) ${unknown.join(', ')}; known: ${PATH_IDS.join(', ')}`)
  return ids.filter(isPathId)
}

const FLAGS = ['c', 'paths', 'tokens', 'frame-ms', 'warmup-ms', 'measure-ms', 'drain-ms', 'features-c', 'hold', 'hold-paths', 'rounds'] as const
const { values } = parseArgs({
  options: {
    ...Object.fromEntries(FLAGS.map((f) => [f, { type: 'string' as const }])),
    quick: { type: 'boolean' },
    write: { type: 'boolean' },
    'no-write': { type: 'boolean' },
  },
})
const flag = (name: typeof FLAGS[number]): string | undefined =>
  (values as Record<string, string | undefined>)[name] ?? process.env[`BENCH_${name.toUpperCase().replace(/-/g, '_')}`]
const quick = values.quick === true || process.env['BENCH_QUICK'] === '1'
const one = (name: typeof FLAGS[number], fallback: number): number => list(flag(name), [fallback])[0] ?? fallback

const holdCount = one('hold', quick ? 1000 : 10_000)
const featuresC = one('features-c', quick ? 20 : 100)
const options: BenchOptions = {
  paths: pathList(flag('paths'), MAIN_PATH_IDS),
  concurrency: list(flag('c'), quick ? [1, 100] : [1, 100, 1000]),
  lengths: list(flag('tokens'), [10, 50]).filter((t) => t > 0),
  frameDelayMs: one('frame-ms', 20),
  warmupMs: one('warmup-ms', quick ? 1000 : 2000),
  measureMs: one('measure-ms', quick ? 3000 : 6000),
  drainMs: one('drain-ms', 10_000),
  featuresConcurrency: featuresC > 0 ? featuresC : undefined,
  rounds: one('rounds', quick ? 0 : 3),
  hold: holdCount > 0 ? { count: holdCount, paths: pathList(flag('hold-paths'), ['proxy', 'proxy-http1', 'obvious-relay']) } : undefined,
  log: (line) => process.stderr.write(`${line}\n`),
}
const write = values['no-write'] === true ? false : values.write === true || !quick

// Children die with us, Ctrl-C included (proc.ts also kills them on a normal exit).
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAllChildren()
    process.exit(130)
  })
}

const result = await runBench(options)
const subtitle = `${result.machine.date}, commit ${result.machine.commit}, ${options.lengths.at(-1) ?? ''}-token streams, ${options.frameDelayMs} ms apart; ${result.machine.cpuModel}, Node ${result.machine.node}`
const section = renderSection(result, CHART_FILE)
process.stdout.write(`${section}\n`)
if (write) {
  const mdPath = fileURLToPath(new URL('BENCHMARKS.md', ROOT))
  writeFileSync(mdPath, updateBenchmarksMd(readFileSync(mdPath, 'utf8'), HEAD, section))
  writeFileSync(fileURLToPath(new URL(CHART_FILE, ROOT)), renderChart(result.groups, subtitle))
  writeFileSync(fileURLToPath(new URL('bench/last-run.json', ROOT)), JSON.stringify(result, null, 1) + '\n')
  process.stderr.write(`wrote BENCHMARKS.md, ${CHART_FILE}, bench/last-run.json (${(result.durationS / 60).toFixed(1)} min)\n`)
}
process.exit(result.failures.length > 0 && result.groups.length === 0 ? 1 : 0)
