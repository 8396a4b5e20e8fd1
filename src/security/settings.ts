// The security part of the configuration (issue 4): its types, defaults and parsers. The
// variables are entries of the table in src/config/settings-security.ts.
import { isIP } from 'node:net'
import type { ApiKey } from './keys.js'

export type BudgetPeriod = 'hour' | 'day' | 'month'
export const BUDGET_PERIODS: readonly BudgetPeriod[] = ['hour', 'day', 'month']

/** Fastify's `trustProxy`: false, true (trust every hop), addresses/CIDRs, or a hop count (as a function). */
export type TrustProxy = boolean | string[] | ((address: string, hop: number) => boolean)

export interface SecurityConfig {
  apiKeys: readonly ApiKey[]
  jwt: { secret: string } | { publicKey: string } | undefined
  jwtIssuer: string | undefined
  jwtAudience: string | undefined
  /**
   * 'keys': API keys and/or JWTs required on /v1/*. 'loopback': none configured and bound
   * to loopback (the demo): anonymous, limits keyed by client IP. 'open': none configured,
   * ALLOW_UNAUTHENTICATED=true.
   */
  authMode: 'keys' | 'loopback' | 'open'
  /** undefined: a random per-process secret (tickets then work on this instance only). */
  ticketSecret: string | undefined
  ticketTtlMs: number
  trustProxy: TrustProxy
  /** Requests per key per window; 0 turns rate limiting off. */
  rateLimitMax: number
  rateLimitWindowMs: number
  maxStreamsPerKey: number
  maxOpenStreams: number
  /** Open followers (resumed or followed streams) per key, and per instance. */
  maxFollowersPerKey: number
  maxOpenFollowers: number
  /** Tokens per key per period; 0 = no budget. */
  tokenBudgetPerKey: number
  tokenBudgetPeriod: BudgetPeriod
  /** Weights of prompt-cache tokens in the budget, in percent of an input token. */
  budgetCacheReadPercent: number
  budgetCacheWritePercent: number
  maxMessages: number
  maxPromptChars: number
}

export const SECURITY_DEFAULTS = {
  ticketTtlMs: 60_000,
  rateLimitMax: 60,
  rateLimitWindowMs: 60_000,
  maxStreamsPerKey: 4,
  maxOpenStreams: 200,
  maxFollowersPerKey: 8,
  maxOpenFollowers: 1000,
  // About a few dollars a day per key on small models: a cap, not a quota plan.
  tokenBudgetPerKey: 1_000_000,
  tokenBudgetPeriod: 'day',
  // Bedrock's prices for Anthropic models: cache reads 0.1x, writes 1.25x an input token.
  budgetCacheReadPercent: 10,
  budgetCacheWritePercent: 125,
  maxMessages: 100,
  maxPromptChars: 100_000,
} as const

// HMAC keys shorter than the hash output weaken HMAC-SHA256 (RFC 2104 section 3).
export const MIN_SECRET_CHARS = 32

/** 127.0.0.0/8, ::1 and localhost: only this machine can connect. */
export function isLoopbackHost (host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase()
  if (bare === 'localhost' || bare === '::1') return true
  return isIP(bare) === 4 && bare.startsWith('127.')
}

// Names proxy-addr (Fastify's trustProxy) knows for the private ranges.
const PROXY_ADDR_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal'])

export function parseTrustProxy (raw: string | undefined, problems: string[]): TrustProxy {
  if (raw === undefined || raw === 'false') return false
  if (raw === 'true') return true
  if (/^\d+$/.test(raw)) {
    // Trust the nearest N hops (proxy-addr semantics; Fastify's types take it as a function).
    const hops = Number(raw)
    return (_address: string, hop: number) => hop < hops
  }
  const entries = raw.split(',').map(s => s.trim()).filter(s => s !== '')
  for (const entry of entries) {
    if (PROXY_ADDR_NAMES.has(entry)) continue
    const [address, bits, extra] = entry.split('/')
    const valid = extra === undefined && address !== undefined && isIP(address) !== 0 &&
      (bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (isIP(address) === 4 ? 32 : 128)))
    if (!valid) problems.push(`TRUST_PROXY must be true, false, a hop count, or addresses, CIDRs, loopback, linklocal, uniquelocal (got "${entry}")`)
  }
  return entries
}
