// Helpers for the security tests: keys, JWTs, tickets. (Sockets: test/support/net.ts; a
// real redis-server: test/redis-helper.ts.)
import { createHmac } from 'node:crypto'
import type { ErrorBody } from './support/net.js'

export const KEY_A = 'key-a-0123456789abcdef0123456789abcdef'
export const KEY_B = 'key-b-fedcba9876543210fedcba9876543210'
export const TICKET_SECRET = 'ticket-secret-0123456789abcdef0123456789'

export const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` })

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
