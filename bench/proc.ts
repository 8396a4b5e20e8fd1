// Processes of the benchmark: spawning children pinned to a core with a raised file limit,
// killing them all on exit, and reading a process's CPU time and RSS from /proc.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'

const PAGE_BYTES = 4096
// USER_HZ: the unit of utime/stime in /proc/<pid>/stat (100 on every Linux that Node supports).
const CLOCK_TICKS_PER_S = 100
const FILE_LIMIT = 65_536

/** Seconds of CPU (user + system, every thread) a live process has used; undefined once gone. */
export function cpuSeconds (pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S // utime, stime (fields 14, 15)
  } catch {
    return undefined
  }
}

/** Seconds of CPU the whole machine has been busy (every CPU, from /proc/stat): to see load from outside the benchmark. */
export function machineBusySeconds (): number {
  try {
    const [, ...ticks] = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).map(Number)
    // user nice system idle iowait irq softirq steal: everything but idle and iowait.
    const busy = ticks.slice(0, 8).reduce((sum, t, i) => (i === 3 || i === 4 ? sum : sum + (t || 0)), 0)
    return busy / CLOCK_TICKS_PER_S
  } catch {
    return 0
  }
}

/** Resident set size in bytes; undefined once the process is gone. */
export function rssBytes (pid: number): number | undefined {
  try {
    return Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * PAGE_BYTES
  } catch {
    return undefined
  }
}

/** TCP connections in ESTABLISHED state whose local port is `port` (server side), from /proc/net/tcp. */
export function establishedOnPort (port: number): number {
  let count = 0
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string
    try { text = readFileSync(file, 'utf8') } catch { continue }
    const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/)
      if (cols[1]?.endsWith(hex) === true && cols[3] === '01') count++
    }
  }
  return count
}

export interface Pinning {
  /** taskset is there and works, with two CPUs to give. */
  enabled: boolean
  /** CPU of the emulator, the load client and the harness. */
  harnessCpu: number | undefined
  /** CPU of the server under test, alone. */
  serverCpu: number | undefined
  note: string
}

/** Two CPUs from this process's affinity list, when taskset can pin to them. */
export function detectPinning (): Pinning {
  const off = (note: string): Pinning => ({ enabled: false, harnessCpu: undefined, serverCpu: undefined, note })
  let cpus: number[]
  try {
    const out = execFileSync('taskset', ['-pc', String(process.pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    cpus = parseCpuList(out.slice(out.lastIndexOf(':') + 1).trim())
  } catch {
    return off('taskset not found or not permitted: processes not pinned')
  }
  const [harnessCpu, serverCpu] = cpus
  if (harnessCpu === undefined || serverCpu === undefined) return off(`one CPU only (${cpus.join(',')}): processes not pinned`)
  try {
    execFileSync('taskset', ['-c', String(serverCpu), 'true'], { stdio: 'ignore' })
  } catch {
    return off('taskset -c failed: processes not pinned')
  }
  return { enabled: true, harnessCpu, serverCpu, note: `pinned with taskset: server under test on CPU ${serverCpu} alone; emulator, load client and harness on CPU ${harnessCpu}` }
}

/** "0-2,5" -> [0, 1, 2, 5] */
export function parseCpuList (list: string): number[] {
  const cpus: number[] = []
  for (const part of list.split(',')) {
    const [from, to] = part.split('-').map(Number)
    if (from === undefined || Number.isNaN(from)) continue
    for (let c = from; c <= (to ?? from); c++) cpus.push(c)
  }
  return cpus
}

/** Moves this process to `cpu` (best effort). */
export function pinSelf (pinning: Pinning): void {
  if (!pinning.enabled || pinning.harnessCpu === undefined) return
  try { execFileSync('taskset', ['-pc', String(pinning.harnessCpu), String(process.pid)], { stdio: 'ignore' }) } catch {}
}

const children = new Set<ChildProcess>()
let exitHookInstalled = false

/** SIGKILLs every child still running. Idempotent; also runs when this process exits. */
export function killAllChildren (): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
  children.clear()
}

export interface ChildOptions {
  name: string
  command: string
  args: string[]
  env: Record<string, string>
  cwd: string
  /** Pin to this CPU with taskset (when pinning is enabled). */
  cpu?: number | undefined
  /** Keep stdin open for messages to the child (the load client in hold mode). */
  stdin?: boolean
}

export interface Child {
  name: string
  pid: number
  process: ChildProcess
  /** The last few KiB the child wrote to stderr, for error messages. */
  stderrTail: () => string
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop: (graceMs?: number) => Promise<void>
}

/**
 * Runs `command` through sh, which raises the open-files limit (10,000 held streams need
 * two sockets each in the proxy) and then execs taskset or the command itself: the pid is
 * the command's own, so /proc readings are of the right process.
 */
export function startChild (opts: ChildOptions): Child {
  if (!exitHookInstalled) {
    process.once('exit', killAllChildren)
    exitHookInstalled = true
  }
  const pinned = opts.cpu !== undefined ? ['taskset', '-c', String(opts.cpu)] : []
  const script = `ulimit -n ${FILE_LIMIT} 2>/dev/null || ulimit -n $(ulimit -Hn) 2>/dev/null; exec "$@"`
  const child = spawn('sh', ['-c', script, 'sh', ...pinned, opts.command, ...opts.args], {
    cwd: opts.cwd,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? os.homedir(), ...opts.env },
    stdio: [opts.stdin === true ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  let tail = ''
  child.stderr?.on('data', (chunk: Buffer) => { tail = (tail + chunk.toString()).slice(-4096) })
  const exited = new Promise<void>((resolve) => child.once('exit', () => { children.delete(child); resolve() }))
  if (child.pid === undefined) throw new Error(`${opts.name}: could not spawn ${opts.command}`)
  return {
    name: opts.name,
    pid: child.pid,
    process: child,
    stderrTail: () => tail,
    stop: async (graceMs = 2000) => {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      await exited
      clearTimeout(timer)
    },
  }
}

/** A port free right now on 127.0.0.1 (the OS picks it; a race with other programs is possible but rare). */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

/** Resolves once 127.0.0.1:port accepts connections; rejects after `timeoutMs` or when `child` exits. */
export async function waitForPort (port: number, child: Child, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.process.exitCode !== null) throw new Error(`${child.name} exited (${child.process.exitCode}): ${child.stderrTail()}`)
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1')
      socket.once('connect', () => { socket.destroy(); resolve(true) })
      socket.once('error', () => resolve(false))
    })
    if (ok) return
    await sleep(100)
  }
  throw new Error(`${child.name} did not listen on ${port} within ${timeoutMs} ms: ${child.stderrTail()}`)
}

export async function sleep (ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}
