// EventSource tickets. EventSource cannot send an Authorization header (FIELD-NOTES 18),
// so the browser trades its key for a ticket (POST /v1/tickets) and puts the ticket in
// the stream URL. URLs end up in proxy and browser logs, so a ticket is short-lived,
// single-use, bound to the principal and optionally to the exact query it will start,
// and signed (HMAC-SHA256): the server keeps no table of issued tickets, only of used
// ones, until they expire.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { sha256 } from './keys.js'

export interface TicketClaims {
  /** Unique id; marks the ticket used. */
  jti: string
  /** Principal id (`key:<name>`, `jwt:<sub>`, `ip:<address>`). */
  sub: string
  /** Issue time, ms since the epoch: a ticket older than the store's claims is unprovable. */
  iat: number
  /** Expiry, ms since the epoch. */
  exp: number
  /**
   * The instance that issued it, when claims live in this process's memory only (no
   * REDIS_URL): another instance, or this one after a restart, has not seen its claims.
   */
  ins?: string
  /** Hash of the bound query (see bindingOf); absent = any request of this principal. */
  bnd?: string
}

export type TicketProblem = 'malformed' | 'bad_signature'

// Domain separation: a signature made for anything else with the same secret never verifies here.
const CONTEXT = 'bedrock-sse-proxy ticket v1\n'
const MAX_TICKET_CHARS = 1024
const B64URL = /^[A-Za-z0-9_-]+$/

export class TicketSigner {
  readonly #secret: Buffer
  /** Set when ticket claims are process-local: stamped on every ticket, required back. */
  readonly instance: string | undefined

  constructor (secret: string | Buffer, instance?: string) {
    this.#secret = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret
    this.instance = instance
  }

  issue (sub: string, ttlMs: number, binding: string | undefined, nowMs = Date.now()): { ticket: string, claims: TicketClaims } {
    const claims: TicketClaims = {
      jti: randomBytes(16).toString('base64url'),
      sub,
      iat: nowMs,
      exp: nowMs + ttlMs,
      ...(binding !== undefined ? { bnd: binding } : {}),
      ...(this.instance !== undefined ? { ins: this.instance } : {}),
    }
    const payload = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url')
    return { ticket: `${payload}.${this.#sign(payload).toString('base64url')}`, claims }
  }

  /** The claims of an authentic ticket; expiry and use are the caller's checks. */
  verify (ticket: string): TicketClaims | TicketProblem {
    if (ticket.length > MAX_TICKET_CHARS) return 'malformed'
    const [payload, signature, extra] = ticket.split('.')
    if (payload === undefined || signature === undefined || extra !== undefined || !B64URL.test(payload) || !B64URL.test(signature)) return 'malformed'
    // Compare the text, not the decoded bytes: base64url ignores the spare low bits of its
    // last character, so several strings decode to one signature, and a ticket must have
    // exactly one spelling (found by test/fuzz.test.ts).
    const given = Buffer.from(signature, 'utf8')
    const expected = Buffer.from(this.#sign(payload).toString('base64url'), 'utf8')
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'bad_signature'
    let claims: unknown
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
    } catch {
      return 'malformed'
    }
    return isClaims(claims) ? claims : 'malformed'
  }

  #sign (payload: string): Buffer {
    return createHmac('sha256', this.#secret).update(CONTEXT).update(payload).digest()
  }
}

/**
 * The query a ticket is bound to, as a hash: every parameter but `ticket`, by name, with
 * the values as the URL carries them. POST /v1/tickets takes `{ query: { prompt, ... } }`
 * and the browser builds the URL from the same object (URLSearchParams stringifies the
 * same way String() does), so a stolen ticket cannot start a different prompt.
 */
export function bindingOf (query: Readonly<Record<string, unknown>>): string {
  const entries = Object.entries(query)
    .filter(([name]) => name !== 'ticket')
    .map(([name, value]) => [name, Array.isArray(value) ? value.map(String) : String(value)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return sha256(JSON.stringify(entries)).toString('base64url')
}

function isClaims (value: unknown): value is TicketClaims {
  if (value === null || typeof value !== 'object') return false
  const c = value as Record<string, unknown>
  return typeof c['jti'] === 'string' && typeof c['sub'] === 'string' && typeof c['iat'] === 'number' && typeof c['exp'] === 'number' &&
    (c['bnd'] === undefined || typeof c['bnd'] === 'string') && (c['ins'] === undefined || typeof c['ins'] === 'string')
}
