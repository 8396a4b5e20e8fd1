// Fills a real proxy process with real waiting streams until it refuses one (the overload
// bounds: test/heap-limit.test.ts, test/memory-limit.test.ts), or runs a steady flow of
// short streams through it (test/ended-streams.test.ts). The server runs as its own
// process (src/server.ts through tsx) so that it can die as a process dies, of its heap
// limit or by the kernel's hand, and the test sees it.
import { spawn, type ChildProcess } from 'node:child_process'
import { Agent, request as httpRequest } from 'node:http'
import type { TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'
import { startTestEmulator, TEST_CREDENTIALS_ENV } from '../helper.js'
import { freePort } from './net.js'
import { eventually } from './wait.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

export interface Answer { status: number, body: string }

export interface ServerProcess {
  url: string
  child: ChildProcess
  running: () => boolean
  /** The last 4000 characters of its stderr, for a failure message. */
  stderr: () => string
  /** Its log lines (JSON, stdout). */
  logs: () => Array<Record<string, unknown>>
  stop: () => Promise<void>
}

/**
 * Starts `node <nodeArgs> --import tsx src/server.ts` against a fresh emulator, with the
 * stream caps and the rate limit lifted and no event-loop bound (the bounds under test are
 * the memory ones). `wrap` runs it inside something (a memory cgroup).
 */
export async function startServerProcess (t: TestContext, opts: { nodeArgs: string[], env?: Record<string, string>, wrap?: (command: string, args: string[]) => { command: string, args: string[] } }): Promise<ServerProcess> {
  const emulator = await startTestEmulator(t)
  const port = await freePort()
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emulator.url,
    ...TEST_CREDENTIALS_ENV,
    BEDROCK_MODEL_ID: 'test.model-v1:0',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    RATE_LIMIT_MAX: '0',
    MAX_STREAMS_PER_KEY: '100000',
    MAX_OPEN_STREAMS: '100000',
    TOKEN_BUDGET_PER_KEY: '0',
    PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0',
    UPSTREAM_FIRST_EVENT_TIMEOUT_MS: '120000',
    UPSTREAM_IDLE_TIMEOUT_MS: '120000',
    ...opts.env,
  }
  const args = [...opts.nodeArgs, '--import', 'tsx', 'src/server.ts']
  const run = opts.wrap?.(process.execPath, args) ?? { command: process.execPath, args }
  const child = spawn(run.command, run.args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  let stdout = ''
  child.stderr?.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString('utf8')).slice(-4000) })
  child.stdout?.on('data', (chunk: Buffer) => { stdout += chunk.toString('utf8') })
  const exited = new Promise<void>(resolve => child.on('exit', () => resolve()))
  const running = (): boolean => child.exitCode === null && child.signalCode === null
  t.after(() => { if (running()) child.kill('SIGKILL') })
  const url = `http://127.0.0.1:${port}`
  await eventually(async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.status === 200, 30_000, 'the server answers /healthz')
  return {
    url,
    child,
    running,
    stderr: () => stderr,
    logs: () => stdout.split('\n').filter(line => line.startsWith('{')).map(line => JSON.parse(line) as Record<string, unknown>),
    stop: async () => { if (running()) child.kill('SIGTERM'); await exited },
  }
}

function openStream (url: string, prompt: string, agent: Agent): { head: Promise<number>, answer: Promise<Answer> } {
  let onHead: (status: number) => void = () => {}
  const head = new Promise<number>(resolve => { onHead = resolve })
  const answer = new Promise<Answer>((resolve) => {
    const req = httpRequest(`${url}/v1/converse-stream?prompt=${encodeURIComponent(prompt)}`, { agent }, (res) => {
      onHead(res.statusCode ?? 0)
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      res.on('error', () => resolve({ status: res.statusCode ?? 0, body: `${body}\n(cut)` }))
    })
    req.on('error', (err) => { onHead(0); resolve({ status: 0, body: err.message }) })
    req.end()
  })
  return { head, answer }
}

export interface Filled {
  /** The answers of the streams that were open (200) before the first refusal. */
  held: Array<Promise<Answer>>
  refused: Answer | undefined
}

/**
 * Opens `batch` streams every 250 ms, each with its first token `firstTokenMs` after its
 * request, until one is refused, `maxStreams` are open, or the server is gone.
 */
export async function fillUntilRefused (t: TestContext, server: ServerProcess, opts: { firstTokenMs: number, maxStreams: number, batch: number }): Promise<Filled> {
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity })
  t.after(() => agent.destroy())
  const prompt = `/stamped 2 0 ${opts.firstTokenMs}`
  const held: Array<Promise<Answer>> = []
  let refused: Answer | undefined
  while (refused === undefined && held.length < opts.maxStreams && server.running()) {
    const batch = Array.from({ length: opts.batch }, () => openStream(server.url, prompt, agent))
    const heads = await Promise.all(batch.map(async s => await s.head))
    for (const [i, status] of heads.entries()) {
      const stream = batch[i]
      if (stream === undefined) continue
      if (status === 200) held.push(stream.answer)
      else refused ??= await stream.answer
    }
    await new Promise(resolve => setTimeout(resolve, 250))
  }
  t.diagnostic(`${held.length} streams open when ${!server.running() ? 'the server died' : refused !== undefined ? 'the first was refused' : 'the filling stopped'}`)
  return { held, refused }
}

export interface Churned {
  /** Answers by HTTP status (0: no answer). */
  statuses: Record<number, number>
  /** 200 answers that did not end with `done` (or carried an `error`). */
  cut: number
  /** The stream ids of the 200 answers, in the order they were started. */
  streamIds: string[]
}

/**
 * A steady flow of streams: `clients` clients, each starting its next stream as soon as the
 * last one ends (keep-alive), until `streams` have been started or the server is gone.
 */
export async function churn (t: TestContext, server: ServerProcess, opts: { clients: number, streams: number, prompt: string }): Promise<Churned> {
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity })
  t.after(() => agent.destroy())
  const result: Churned = { statuses: {}, cut: 0, streamIds: [] }
  const ids: Array<{ slot: number, id: string }> = []
  let started = 0
  const client = async (): Promise<void> => {
    while (started < opts.streams && server.running()) {
      const slot = started++
      const { status, body } = await openStream(server.url, opts.prompt, agent).answer
      result.statuses[status] = (result.statuses[status] ?? 0) + 1
      if (status !== 200) continue
      if (!/\nevent: done\n/.test(body) || /\nevent: error\n/.test(body)) result.cut++
      ids.push({ slot, id: /^id: ([0-9a-f]+)-1$/m.exec(body)?.[1] ?? '' })
    }
  }
  await Promise.all(Array.from({ length: opts.clients }, client))
  result.streamIds = ids.sort((a, b) => a.slot - b.slot).map(s => s.id)
  return result
}

/** The held streams that did not end normally (with `done` and no `error`). */
export async function unfinished (held: Array<Promise<Answer>>): Promise<Answer[]> {
  const answers = await Promise.all(held)
  return answers.filter(a => !/\nevent: done\n/.test(a.body) || /\nevent: error\n/.test(a.body))
}

/** Which bound refused the first stream, from the server's log line (under-pressure's name). */
export function refusalCause (server: ServerProcess): string | undefined {
  const line = server.logs().find(l => l.msg === 'overloaded: new stream refused') as { pressure?: { type?: string } } | undefined
  return line?.pressure?.type
}
