// Helpers for the security tests: keys, JWTs, tickets, and a stream held open on a real
// socket that a test can cut. (A real redis-server: test/redis-helper.ts.)
import { createHmac } from 'node:crypto'
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http'

export const KEY_A = 'key-a-0123456789abcdef0123456789abcdef'
export const KEY_B = 'key-b-fedcba9876543210fedcba9876543210'
export const TICKET_SECRET = 'ticket-secret-0123456789abcdef0123456789'

export const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` })

export interface ErrorBody { error: { code: string, message: string, retryAfterMs?: number, resetAt?: string } }

export async function errorOf (res: Response): Promise<ErrorBody['error']> {
  return (await res.json() as ErrorBody).error
}

/** An HS256 JWT, made by hand so the test does not trust the library it checks. */
export function signJwt (claims: Record<string, unknown>, secret: string): string {
  const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`
}

export async function mintTicket (base: string, key: string, query?: Record<string, string | number>): Promise<{ ticket: string, expiresAt: string }> {
  const res = await fetch(`${base}/v1/tickets`, {
    method: 'POST',
    headers: { ...bearer(key), 'content-type': 'application/json' },
    body: JSON.stringify(query !== undefined ? { query } : {}),
  })
  if (res.status !== 200) throw new Error(`ticket: ${res.status} ${await res.text()}`)
  return await res.json() as { ticket: string, expiresAt: string }
}

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

/** Polls `check` until it returns true, or fails after `ms`. */
export async function eventually (check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise(resolve => setTimeout(resolve, 25))
  }
}
