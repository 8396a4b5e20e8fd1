// The load client, a process of its own (BENCH_JOB in its environment): opens the
// streams of one run and prints one JSON line per message (job.ts). In a load job,
// C workers each run streams back to back until the window closes; tokens are timed
// against the emulator's send stamps. In a hold job, it opens N streams that wait on a
// slow first token and keeps them until told `close` on stdin.
import { createInterface } from 'node:readline'
import { stampClockMs } from '../src/emulator/index.js'
import type { ClientMessage, HoldJob, Job, LoadJob, LoadResult } from './job.js'
import { PATHS } from './paths/index.js'
import type { StreamOutcome } from './paths/types.js'
import { cpuSeconds, machineBusySeconds, rssBytes, sleep } from './proc.js'
import { summarize } from './stats.js'

const RSS_SAMPLE_MS = 100

function send (message: ClientMessage): void {
  process.stdout.write(JSON.stringify(message) + '\n')
}

class Errors {
  readonly counts: Record<string, number> = {}
  add (message: string): void {
    const key = message.slice(0, 160)
    if (key in this.counts || Object.keys(this.counts).length < 5) this.counts[key] = (this.counts[key] ?? 0) + 1
  }
}

interface StreamRecord { startedAt: number, firstByteAt: number, firstTokenAt: number, ok: boolean }

async function runLoad (job: LoadJob): Promise<LoadResult> {
  const path = PATHS[job.path]
  const prompt = `/stamped ${job.tokens} ${job.frameDelayMs}`
  const serverPid = job.watch.server ?? process.pid
  const errors = new Errors()

  // One stream first: proves the path works and loads its code; then the idle RSS.
  const check = await path.openStream(job.target, `/stamped 2 ${job.frameDelayMs}`, { firstByte: () => {}, tokens: () => {} }, AbortSignal.timeout(20_000))
  if (!check.ok) throw new Error(`${job.path}: the check stream failed: ${check.error}`)
  await sleep(300)
  const idleRss = rssBytes(serverPid) ?? 0

  const streamMs = (job.tokens + 4) * job.frameDelayMs
  const t0 = stampClockMs()
  const windowStartPlanned = t0 + Math.max(job.warmupMs, streamMs)
  const windowEndPlanned = windowStartPlanned + job.measureMs
  const abort = new AbortController()
  const hardStop = setTimeout(() => abort.abort(), windowEndPlanned + job.drainMs - t0)

  // Per token: arrival time and stamp; filtered to the window once its real edges are known.
  const arrivals: number[] = []
  const stamps: number[] = []
  const streams: StreamRecord[] = []

  interface Snapshot { at: number, server: number, emulator: number, client: number, others: Record<string, number>, machine: number }
  const snapshot = (): Snapshot => {
    const own = process.cpuUsage()
    const others: Record<string, number> = {}
    for (const [name, pid] of Object.entries(job.watch.others ?? {})) others[name] = cpuSeconds(pid) ?? 0
    const client = (own.user + own.system) / 1e6
    return { at: stampClockMs(), server: job.watch.server !== undefined ? cpuSeconds(serverPid) ?? 0 : client, emulator: cpuSeconds(job.watch.emulator) ?? 0, client, others, machine: machineBusySeconds() }
  }
  let start: Snapshot | undefined
  let end: Snapshot | undefined
  let peakRss = idleRss
  let sampler: NodeJS.Timeout | undefined
  const opened = setTimeout(() => {
    start = snapshot()
    sampler = setInterval(() => { peakRss = Math.max(peakRss, rssBytes(serverPid) ?? 0) }, RSS_SAMPLE_MS)
  }, windowStartPlanned - t0)
  const closed = setTimeout(() => {
    end = snapshot()
    clearInterval(sampler)
  }, windowEndPlanned - t0)

  async function oneStream (): Promise<void> {
    const record: StreamRecord = { startedAt: stampClockMs(), firstByteAt: Number.NaN, firstTokenAt: Number.NaN, ok: false }
    streams.push(record)
    const outcome: StreamOutcome = await path.openStream(job.target, prompt, {
      firstByte: (at) => { if (Number.isNaN(record.firstByteAt)) record.firstByteAt = at },
      tokens: (tokenStamps, at) => {
        if (Number.isNaN(record.firstTokenAt)) record.firstTokenAt = at
        for (const stamp of tokenStamps) { arrivals.push(at); stamps.push(stamp) }
      },
    }, abort.signal)
    record.ok = outcome.ok
    if (!outcome.ok) errors.add(outcome.error)
  }

  // Starts spread over one stream's length, so streams do not tick in lockstep.
  await Promise.all(Array.from({ length: job.concurrency }, async (_, i) => {
    await sleep((i / job.concurrency) * streamMs)
    while (stampClockMs() < windowEndPlanned && !abort.signal.aborted) await oneStream()
  }))
  clearTimeout(hardStop)
  clearTimeout(opened)
  clearTimeout(closed)
  clearInterval(sampler)
  start ??= snapshot()
  end ??= snapshot()

  const inWindow = (t: number): boolean => t >= (start?.at ?? 0) && t < (end?.at ?? 0)
  const windowStreams = streams.filter((s) => inWindow(s.startedAt))
  // Added latency from when each token left the emulator: its stamp, plus what it waited in
  // the emulator when it went over HTTP/2 (src/emulator/stamp.ts, SendLog).
  const waited = await emulatorWaits(job.target.emulatorUrl, t0)
  const windowLatencies: number[] = []
  const fromStamp: number[] = []
  const emulatorWaitsMs: number[] = []
  for (let i = 0; i < arrivals.length; i++) {
    const at = arrivals[i] ?? 0
    if (!inWindow(at)) continue
    const stamp = stamps[i] ?? 0
    const wait = waited.get(stamp)
    if (wait !== undefined) emulatorWaitsMs.push(wait)
    windowLatencies.push(at - stamp - (wait ?? 0))
    fromStamp.push(at - stamp)
  }
  const windowS = (end.at - start.at) / 1000
  const others: Record<string, number> = {}
  for (const name of Object.keys(end.others)) others[name] = (end.others[name] ?? 0) - (start.others[name] ?? 0)
  return {
    type: 'load',
    path: job.path,
    concurrency: job.concurrency,
    tokensPerStream: job.tokens,
    windowS,
    streamsStarted: windowStreams.length,
    streamsOk: windowStreams.filter((s) => s.ok).length,
    incomplete: windowStreams.filter((s) => !s.ok).length,
    errors: errors.counts,
    tokens: windowLatencies.length,
    tokensPerS: windowLatencies.length / windowS,
    ttfbMs: summarize(windowStreams.filter((s) => !Number.isNaN(s.firstByteAt)).map((s) => s.firstByteAt - s.startedAt)),
    ttftMs: summarize(windowStreams.filter((s) => !Number.isNaN(s.firstTokenAt)).map((s) => s.firstTokenAt - s.startedAt)),
    addedMs: summarize(windowLatencies),
    addedFromStampMs: summarize(fromStamp),
    emulatorWaitMs: summarize(emulatorWaitsMs),
    cpuS: { server: end.server - start.server, emulator: end.emulator - start.emulator, client: end.client - start.client, others, machine: end.machine - start.machine },
    rssBytes: { idle: idleRss, peak: peakRss },
  }
}

/** Stamp -> ms the token waited in the emulator, for the tokens it sent over HTTP/2 since `sinceMs`. */
async function emulatorWaits (emulatorUrl: string, sinceMs: number): Promise<Map<number, number>> {
  const waits = new Map<number, number>()
  const res = await fetch(`${emulatorUrl}/sent?since=${sinceMs}`, { signal: AbortSignal.timeout(30_000) })
  if (!res.ok) throw new Error(`emulator /sent: HTTP ${res.status}`)
  const { pairs } = await res.json() as { pairs: number[] }
  for (let i = 0; i + 1 < pairs.length; i += 2) waits.set(pairs[i] ?? 0, pairs[i + 1] ?? 0)
  return waits
}

async function runHold (job: HoldJob): Promise<void> {
  const path = PATHS[job.path]
  const prompt = `/stamped 1 0 ${job.firstTokenDelayMs}`
  const abort = new AbortController()
  const deadline = setTimeout(() => abort.abort(), job.deadlineMs)
  const errors = new Errors()
  let responded = 0
  let failed = 0
  let sent = 0
  const ends: Array<Promise<void>> = []
  const started = stampClockMs()
  // Opening: at most openConcurrency requests not yet answered by a first byte or a
  // short wait (paths that send nothing before the first token answer no byte at all).
  let next = 0
  await Promise.all(Array.from({ length: Math.min(job.openConcurrency, job.count) }, async () => {
    while (next < job.count && !abort.signal.aborted) {
      next++
      let settleOpen: () => void = () => {}
      const openedOrWaited = new Promise<void>((resolve) => { settleOpen = resolve })
      const timer = setTimeout(settleOpen, 50)
      ends.push(path.openStream(job.target, prompt, {
        firstByte: () => { responded++; settleOpen() },
        tokens: () => {},
      }, abort.signal).then((outcome) => {
        if (!outcome.ok && !abort.signal.aborted) { failed++; errors.add(outcome.error) }
        settleOpen()
      }))
      sent++
      await openedOrWaited
      clearTimeout(timer)
    }
  }))
  send({ type: 'opened', requested: job.count, sent, failed, openMs: stampClockMs() - started })
  const lines = createInterface({ input: process.stdin })
  await new Promise<void>((resolve) => {
    lines.on('line', (line) => { if (line.trim() === 'close') resolve() })
    lines.on('close', resolve)
    abort.signal.addEventListener('abort', () => resolve())
  })
  abort.abort()
  clearTimeout(deadline)
  await Promise.race([Promise.allSettled(ends), sleep(10_000)])
  send({ type: 'hold', responded, failed, errors: errors.counts })
  lines.close()
}

const job = JSON.parse(process.env['BENCH_JOB'] ?? 'null') as Job | null
if (job === null) {
  process.stderr.write('load-client: BENCH_JOB (JSON) is required; it is run by bench/run.ts\n')
  process.exit(2)
}
try {
  if (job.mode === 'load') send(await runLoad(job))
  else await runHold(job)
  process.exit(0)
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exit(1)
}
