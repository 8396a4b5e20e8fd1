// The security part of the Config (issue 4): keys from API_KEYS and API_KEYS_FILE, the JWT
// verifier, and the auth mode with its one safety rule. Key parsing is src/security/keys.ts.
import { checkKeys, parseKeyList, readKeyFile, type ApiKey } from '../security/keys.js'
import { isLoopbackHost, parseTrustProxy, type SecurityConfig } from '../security/settings.js'
import { allowedModels } from './rules.js'
import type { Values } from './settings.js'

export function securityConfig (v: Values, problems: string[]): SecurityConfig {
  const apiKeys = apiKeysOf(v, problems)
  const jwt = jwtOf(v, problems)
  return {
    apiKeys,
    jwt,
    jwtIssuer: v.JWT_ISSUER,
    jwtAudience: v.JWT_AUDIENCE,
    authMode: authMode(v, apiKeys.length > 0 || jwt !== undefined, problems),
    ticketSecret: v.TICKET_SECRET,
    ticketTtlMs: v.TICKET_TTL_MS,
    trustProxy: parseTrustProxy(v.TRUST_PROXY.toLowerCase(), problems),
    rateLimitMax: v.RATE_LIMIT_MAX,
    rateLimitWindowMs: v.RATE_LIMIT_WINDOW_MS,
    maxStreamsPerKey: v.MAX_STREAMS_PER_KEY,
    maxOpenStreams: v.MAX_OPEN_STREAMS,
    maxFollowersPerKey: v.MAX_FOLLOWERS_PER_KEY,
    maxOpenFollowers: v.MAX_OPEN_FOLLOWERS,
    tokenBudgetPerKey: v.TOKEN_BUDGET_PER_KEY,
    tokenBudgetPeriod: v.TOKEN_BUDGET_PERIOD,
    budgetCacheReadPercent: v.BUDGET_CACHE_READ_PERCENT,
    budgetCacheWritePercent: v.BUDGET_CACHE_WRITE_PERCENT,
    maxMessages: v.MAX_MESSAGES,
    maxPromptChars: v.MAX_PROMPT_CHARS,
  }
}

/** API_KEYS, then the file's keys; names and keys unique, per-key models inside the allowlist. */
function apiKeysOf (v: Values, problems: string[]): ApiKey[] {
  const keys = parseKeyList(v.API_KEYS, problems)
  if (v.API_KEYS_FILE !== undefined) keys.push(...readKeyFile(v.API_KEYS_FILE, problems))
  checkKeys(keys, allowedModels(v), problems)
  return keys
}

function jwtOf (v: Values, problems: string[]): SecurityConfig['jwt'] {
  if (v.JWT_SECRET !== undefined && v.JWT_PUBLIC_KEY !== undefined) problems.push('Set JWT_SECRET or JWT_PUBLIC_KEY, not both')
  if (v.JWT_SECRET !== undefined) return { secret: v.JWT_SECRET }
  // A PEM on one line, as an environment variable holds it, with \n escapes.
  if (v.JWT_PUBLIC_KEY !== undefined) return { publicKey: v.JWT_PUBLIC_KEY.replaceAll('\\n', '\n') }
  return undefined
}

function authMode (v: Values, authConfigured: boolean, problems: string[]): SecurityConfig['authMode'] {
  // Anyone who reaches the port can spend the Bedrock budget: off loopback, refuse to start open by accident.
  if (!authConfigured && !v.ALLOW_UNAUTHENTICATED && !isLoopbackHost(v.HOST)) {
    problems.push(`HOST=${v.HOST} is reachable from other machines and no API_KEYS, API_KEYS_FILE, JWT_SECRET or JWT_PUBLIC_KEY is set: configure one, or set ALLOW_UNAUTHENTICATED=true`)
  }
  if (authConfigured) return 'keys'
  return isLoopbackHost(v.HOST) && !v.ALLOW_UNAUTHENTICATED ? 'loopback' : 'open'
}
