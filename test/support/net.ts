// Sockets for tests: free ports, HTTP requests with full control of the headers, streams
// held open on a real socket that a test can cut, and raw TCP exchanges (a body that
// stalls halfway, a broken request line) that fetch() cannot make.
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http'
import { connect, createServer, type Socket } from 'node:net'

/** A loopback port that was free a moment ago (for child processes that need a PORT). */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
    server.on('error', reject)
  })
}

export interface ErrorBody { error: { code: string, message: string, retryAfterMs?: number, resetAt?: string } }

export interface HeldStream { response: IncomingMessage, request: ClientRequest, cut: () => void }

/** Opens a GET stream on a real socket and waits for its headers; `cut` destroys the socket. */
export async function holdStream (base: string, pathAndQuery: string, headers: Record<string, string> = {}): Promise<HeldStream> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${pathAndQuery}`, { headers }, (res) => {
      res.on('error', () => {})
      res.resume()
      resolve({ response: res, request: req, cut: () => req.destroy() })
    })
    req.on('error', (err) => { if (!req.destroyed) reject(err) })
    req.end()
  })
}

/** A request with full control of the headers (fetch() refuses to set Host); reads the whole answer. */
export async function rawRequest (url: string, opts: { method?: string, headers?: Record<string, string>, body?: string } = {}): Promise<{ status: number, headers: Record<string, string | string[] | undefined>, text: string, json: ErrorBody }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: opts.method ?? 'GET', headers: opts.headers ?? {} }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let json: ErrorBody = { error: { code: '', message: '' } }
        try { json = JSON.parse(text) as ErrorBody } catch {}
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json })
      })
    })
    req.on('error', reject)
    req.end(opts.body)
  })
}

export interface RawExchange {
  socket: Socket
  /** Everything the server sent so far. */
  received: () => string
  /** Resolves when the server closed the connection; rejects after `ms` if it did not. */
  closed: (ms: number) => Promise<void>
}

/** Writes `head + body` on a plain TCP connection and records what comes back. */
export async function openRaw (base: string, head: string, body = ''): Promise<RawExchange> {
  const { hostname, port } = new URL(base)
  const socket = connect(Number(port), hostname)
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
  let data = ''
  let ended = false
  const waiters: Array<() => void> = []
  socket.on('data', (chunk: Buffer) => { data += chunk.toString('utf8') })
  socket.on('error', () => {})
  socket.on('close', () => { ended = true; for (const w of waiters) w() })
  socket.write(head + body)
  return {
    socket,
    received: () => data,
    closed: async (ms) => {
      if (ended) return
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the server kept the connection open for ${ms} ms; received:\n${data}`)), ms)
        waiters.push(() => { clearTimeout(timer); resolve() })
      })
    },
  }
}

/** Reads the rest of a response (one a test had paused) to its end, as text. */
export async function readToEnd (res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  res.on('data', (c: Buffer) => chunks.push(c))
  res.resume()
  await new Promise(resolve => res.on('end', resolve))
  return Buffer.concat(chunks).toString('utf8')
}

export interface TcpRelay {
  /** http://127.0.0.1:<port>, to use as an endpoint in place of the target's. */
  url: string
  /** Connections accepted so far. */
  accepted: () => number
  /** Connections the client side has closed so far. */
  closedByClient: () => number
  /** From now on, the open connections carry nothing either way, and nothing closes them (a peer a NAT forgot). New connections still pass. */
  silence: () => void
  close: () => Promise<void>
}

/** A TCP relay to `target` (http://host:port) on a loopback port, whose connections a test can silence. */
export async function startTcpRelay (target: string): Promise<TcpRelay> {
  const { hostname, port } = new URL(target)
  const pairs = new Set<{ client: Socket, upstream: Socket, silent: boolean }>()
  let accepted = 0
  let closedByClient = 0
  const server = createServer((client) => {
    accepted++
    const pair = { client, upstream: connect(Number(port), hostname), silent: false }
    pairs.add(pair)
    client.on('data', (chunk: Buffer) => { if (!pair.silent) pair.upstream.write(chunk) })
    pair.upstream.on('data', (chunk: Buffer) => { if (!pair.silent) client.write(chunk) })
    client.on('close', () => { closedByClient++; pair.upstream.destroy(); pairs.delete(pair) })
    pair.upstream.on('close', () => { if (!pair.silent) client.destroy() })
    client.on('error', () => {})
    pair.upstream.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const relayPort = typeof address === 'object' && address !== null ? address.port : 0
  return {
    url: `http://127.0.0.1:${relayPort}`,
    accepted: () => accepted,
    closedByClient: () => closedByClient,
    silence: () => { for (const pair of pairs) pair.silent = true },
    close: async () => {
      for (const pair of pairs) { pair.client.destroy(); pair.upstream.destroy() }
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
