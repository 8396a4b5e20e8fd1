// BENCHMARKS.md's newest section, rendered from a BenchResult: the run's conditions, the
// tables, what each column means. Earlier sections stay below "Earlier measurements".
import type { BenchResult, RunGroup } from './bench.js'
import type { LoadResult } from './job.js'
import { summarize } from './stats.js'

export const SECTION_START = '<!-- bench:start: written by npm run bench (bench/report.ts); earlier runs are kept under "Earlier measurements" -->'
export const SECTION_END = '<!-- bench:end -->'
export const EARLIER = '## Earlier measurements'

const MIB = 2 ** 20
const n = (v: number, digits = 0): string => Number.isFinite(v) ? v.toFixed(digits) : 'n/a'
const ms = (v: number): string => !Number.isFinite(v) ? 'n/a' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)
const pct = (cpuS: number, r: LoadResult): string => `${n((100 * cpuS) / r.windowS)}%`

/** tokens/s if every stream kept the emulator's pace: C streams of L tokens, each (L + 4) frames long. */
function pacedTokensPerS (r: LoadResult, frameDelayMs: number): number {
  return (r.concurrency * r.tokensPerStream * 1000) / ((r.tokensPerStream + 4) * frameDelayMs)
}

/**
 * Tokens relayed per second of the server's own CPU: its efficiency, which still shows
 * when the harness core, not the server's, is what capped tokens/s (the limit column).
 * For SDK direct, the CPU of its client process.
 */
function tokensPerCoreS (r: LoadResult): number {
  return r.cpuS.server > 0 ? (r.tokensPerS * r.windowS) / r.cpuS.server : Number.NaN
}

/** CPU the machine spent outside the measured processes (other programs; the orchestrator, a few %). */
function foreign (g: RunGroup, r: LoadResult): number {
  const ours = r.cpuS.server + r.cpuS.emulator + (g.path === 'sdk-direct' ? 0 : r.cpuS.client) +
    Object.values(r.cpuS.others).reduce((a, b) => a + b, 0)
  return Math.max(0, r.cpuS.machine - ours)
}

/** Which process was the limit: a core at 90% or more. */
function bound (g: RunGroup, r: LoadResult): string {
  const direct = g.path === 'sdk-direct'
  const harness = (r.cpuS.emulator + (direct ? 0 : r.cpuS.client)) / r.windowS
  const server = r.cpuS.server / r.windowS
  const marks: string[] = []
  if (server >= 0.9) marks.push(direct ? 'client+SDK core full' : 'server core full')
  if (harness >= 0.9) marks.push('harness core full')
  if (foreign(g, r) / r.windowS >= 0.15) marks.push(`other load ${n((100 * foreign(g, r)) / r.windowS)}%`)
  return marks.join(', ')
}

/** The emulator's own wait before its HTTP/2 writes leave; none over HTTP/1.1 (job.ts). */
function emulatorWait (r: LoadResult): string {
  const d = r.emulatorWaitMs as LoadResult['emulatorWaitMs'] | undefined // absent in runs before it was measured
  return d === undefined || d.count === 0 ? 'none (HTTP/1.1)' : `${ms(d.p50)} / ${ms(d.p99)}`
}

function throughputTable (groups: RunGroup[], frameDelayMs: number): string {
  const rows = groups.map((g) => {
    const r = g.runs.at(-1)
    if (r === undefined) return ''
    return `| ${g.label} | ${g.concurrency} | ${n(r.tokensPerS)} | ${n(tokensPerCoreS(r))} | ${n(pacedTokensPerS(r, frameDelayMs))} | ${ms(r.ttfbMs.p50)} / ${ms(r.ttfbMs.p99)} | ${ms(r.ttftMs.p50)} / ${ms(r.ttftMs.p99)} | ` +
      `${ms(r.addedMs.p50)} / ${ms(r.addedMs.p90)} / ${ms(r.addedMs.p99)} | ${emulatorWait(r)} | ${r.incomplete} of ${r.streamsStarted} | ${bound(g, r)} |`
  })
  return ['| path | C | tokens/s | tokens per CPU-second of the server | at model pace | TTFB p50 / p99 ms | first token p50 / p99 ms | added latency per token p50 / p90 / p99 ms | wait in the emulator (not counted) p50 / p99 ms | incomplete | limit |',
    '|---|---|---|---|---|---|---|---|---|---|---|', ...rows].join('\n')
}

function resourceTable (groups: RunGroup[]): string {
  const rows = groups.map((g) => {
    const r = g.runs.at(-1)
    if (r === undefined) return ''
    const perStreamKiB = (r.rssBytes.peak - r.rssBytes.idle) / 1024 / g.concurrency
    const direct = g.path === 'sdk-direct'
    return `| ${g.label} | ${g.concurrency} | ${g.fit !== undefined ? n(g.fit.msPerStream, 2) : 'n/a'} | ${g.fit !== undefined ? n(g.fit.usPerToken, 1) : 'n/a'} | ` +
      `${pct(r.cpuS.server, r)} | ${pct(r.cpuS.emulator, r)} | ${direct ? '(same process)' : pct(r.cpuS.client, r)} | ` +
      `${pct(foreign(g, r), r)} | ${n(r.rssBytes.idle / MIB)} | ${n(r.rssBytes.peak / MIB)} | ${n(perStreamKiB, 1)} |`
  })
  return ['| path | C | CPU ms per stream (intercept) | CPU us per token (slope) | server CPU | emulator CPU | client CPU | other CPU on the machine | RSS idle MiB | RSS peak MiB | RSS KiB per open stream |',
    '|---|---|---|---|---|---|---|---|---|---|---|', ...rows].join('\n')
}

/** Median and range of a few values: "m (lo-hi)" (the median as every percentile here: nearest rank). */
function spread (values: number[], show: (v: number) => string): string {
  const finite = values.filter(Number.isFinite)
  if (finite.length === 0) return 'n/a'
  const { p50, max } = summarize(finite)
  return finite.length === 1 ? show(p50) : `${show(p50)} (${show(Math.min(...finite))}-${show(max)})`
}

/**
 * The interleaved rounds: per path, the median and range over rounds, and its tokens/s
 * divided by the baseline's and SDK direct's in the same round (adjacent in time, so the
 * machine's drift mostly cancels).
 */
function roundsTable (result: BenchResult): string {
  const byPath = new Map<string, BenchResult['rounds']>()
  for (const r of result.rounds) byPath.set(r.path, [...(byPath.get(r.path) ?? []), r])
  const ratio = (path: string, to: string): number[] => (byPath.get(path) ?? []).flatMap((r) => {
    const other = result.rounds.find((o) => o.round === r.round && o.path === to)
    return other !== undefined && other.run.tokensPerS > 0 ? [r.run.tokensPerS / other.run.tokensPerS] : []
  })
  const x = (v: number): string => `${v.toFixed(2)}x`
  const rows = [...byPath.entries()].map(([path, runs]) => {
    const rs = runs.map((r) => r.run)
    return `| ${runs[0]?.label ?? path} | ${runs.length} | ${spread(rs.map((r) => r.tokensPerS), (v) => n(v))} | ${spread(rs.map(tokensPerCoreS), (v) => n(v))} | ` +
      `${spread(rs.map((r) => r.addedMs.p99), ms)} | ${spread(ratio(path, 'obvious-relay'), x)} | ${spread(ratio(path, 'sdk-direct'), x)} | ` +
      `${rs.reduce((a, r) => a + r.incomplete, 0)} of ${rs.reduce((a, r) => a + r.streamsStarted, 0)} |`
  })
  return ['| path | rounds | tokens/s | tokens per CPU-second of the server | added latency p99 ms | tokens/s / obvious relay (same round) | tokens/s / SDK direct (same round) | incomplete |',
    '|---|---|---|---|---|---|---|---|', ...rows].join('\n')
}

function featureTable (result: BenchResult): string {
  const rows = result.features.map(({ name, group: g }) => {
    const r = g.runs.at(-1)
    if (r === undefined) return ''
    const others = [...Object.entries(r.cpuS.others).map(([k, v]) => `${k} ${pct(v, r)}`), `other ${pct(foreign(g, r), r)}`].join(', ')
    return `| ${name} | ${n(r.tokensPerS)} | ${ms(r.addedMs.p50)} / ${ms(r.addedMs.p99)} | ${ms(r.ttftMs.p50)} | ${g.fit !== undefined ? n(g.fit.msPerStream, 2) : 'n/a'} | ` +
      `${g.fit !== undefined ? n(g.fit.usPerToken, 1) : 'n/a'} | ${pct(r.cpuS.server, r)} | ${n(r.rssBytes.peak / MIB)} | ${r.incomplete} of ${r.streamsStarted} | ${others} |`
  })
  return ['| proxy configuration | tokens/s | added p50 / p99 ms | first token p50 ms | CPU ms per stream | CPU us per token | proxy CPU | RSS peak MiB | incomplete | other processes |',
    '|---|---|---|---|---|---|---|---|---|---|', ...rows].join('\n')
}

function holdTable (result: BenchResult): string {
  const rows = result.hold.map((h) => {
    const perStream = (h.rssHeldBytes - h.rssIdleBytes) / 1024 / Math.max(1, h.upstreamCalls)
    return `| ${h.label} | ${h.requested} | ${h.opened.sent - h.opened.failed} | ${h.upstreamCalls} | ${h.upstreamConnections} | ${n(h.opened.openMs / 1000, 1)} + ${n(h.settleS, 1)} | ` +
      `${n(h.rssIdleBytes / MIB)} | ${n(h.rssHeldBytes / MIB)} | ${n(perStream, 1)} | ${n(h.emulatorRssBytes / MIB)} |`
  })
  return ['| path | streams asked | requests sent | upstream calls waiting | upstream connections | s to send + s to settle | RSS idle MiB | RSS held MiB | KiB per waiting stream | emulator RSS MiB |',
    '|---|---|---|---|---|---|---|---|---|---|', ...rows].join('\n')
}

export function renderSection (result: BenchResult, chartFile: string): string {
  const o = result.options
  const m = result.machine
  const headline = o.lengths.at(-1) ?? 0
  const parts = [
    SECTION_START,
    `## ${m.date}: issue 10 benchmark, commit ${m.commit}`,
    '',
    `Machine: ${m.cpuModel}, ${m.cpus} CPUs, ${m.ramGiB} GiB RAM, Linux ${m.kernel}; Node ${m.node}. ${result.pinning}. ` +
      `Whole run ${n(result.durationS / 60, 1)} min (\`npm run bench\`; raw numbers in \`bench/last-run.json\`).`,
    '',
    `Streams of ${o.lengths.join(' and ')} tokens, one every ${o.frameDelayMs} ms from the emulator; per run a warm-up of at least ` +
      `${n(o.warmupMs / 1000, 1)} s (and at least one stream's length), then a ${n(o.measureMs / 1000, 1)} s window. Tables show the ${headline}-token runs; ` +
      'CPU per stream and per token come from the fit of both lengths.',
    '',
    `![tokens/s and p99 added latency per path and concurrency](${chartFile})`,
    '',
    `### Throughput and latency (${headline}-token streams)`,
    '',
    throughputTable(result.groups, o.frameDelayMs),
    '',
    '### CPU and memory of the server under test',
    '',
    resourceTable(result.groups),
  ]
  if (result.rounds.length > 0) {
    const top = Math.max(...o.concurrency)
    const count = Math.max(...result.rounds.map((r) => r.round))
    parts.push('', `### ${count} interleaved rounds at C=${top} (${headline}-token streams)`, '',
      `Every path again, one after the other, ${count} times: median (lowest-highest) over the rounds. ` +
      'Tokens/s on a shared machine drifts between runs by more than some differences between paths; ' +
      'the ratios are taken within each round, whose runs are minutes apart at most.', '', roundsTable(result))
  }
  if (result.features.length > 0) {
    parts.push('', `### What each feature of the proxy costs (C=${o.featuresConcurrency ?? ''}, ${headline}-token streams)`, '', featureTable(result))
  }
  if (result.hold.length > 0) {
    parts.push('', `### ${o.hold?.count ?? ''} streams waiting on a slow first token`, '', holdTable(result))
  }
  if (result.failures.length > 0) {
    parts.push('', '### What did not run', '', ...result.failures.map((f) => `- ${f.what}: ${f.error.replace(/\s+/g, ' ').slice(0, 400)}`))
  }
  parts.push('', SECTION_END)
  return parts.join('\n')
}

/**
 * The new file: head (title, method), the new section, then every earlier section under
 * EARLIER. A section written by an earlier run moves down there.
 */
export function updateBenchmarksMd (current: string, head: string, section: string): string {
  let earlier = ''
  const start = current.indexOf(SECTION_START)
  const end = current.indexOf(SECTION_END)
  const earlierAt = current.indexOf(EARLIER)
  if (earlierAt !== -1) earlier = current.slice(earlierAt + EARLIER.length).trim()
  if (start !== -1 && end > start) {
    // Its chart is overwritten by the new run: the link goes, the tables stay.
    const previous = current.slice(start + SECTION_START.length, end).trim()
      .replace(/^!\[.*\]\(.*\)\n\n?/gm, '').replace(/^## /, '### ').replace(/\n### /g, '\n#### ')
    earlier = `${previous}\n\n${earlier}`.trim()
  } else if (earlierAt === -1) {
    // The file before issue 10: everything after its title is history.
    earlier = current.replace(/^# .*\n/, '').trim().replace(/^## /gm, '### ')
  }
  return `${head.trim()}\n\n${section}\n\n${EARLIER}\n\n${earlier}\n`
}
