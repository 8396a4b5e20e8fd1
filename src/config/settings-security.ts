// The table, part 2: who may call, and how much (issue 4). Keys, JWTs and the auth mode are
// put together in security.ts; the parsing of keys lives in src/security/keys.ts.
import { BUDGET_PERIODS, MIN_SECRET_CHARS, SECURITY_DEFAULTS } from '../security/settings.js'
import { bool, enumOf, int, list, secret, string } from './kinds.js'

const DAY_MS = 86_400_000

export const AUTHENTICATION = {
  // Each entry checked by parseKeyList (src/security/keys.ts).
  API_KEYS: list({ doc: 'client keys sent as `Authorization: Bearer <key>`, comma separated: the key itself (20+ characters; `openssl rand -hex 32`) or, better, `sha256:<hex digest>`' }),
  API_KEYS_FILE: string({ example: '/run/secrets/api-keys.yaml', commented: true, doc: 'JSON or YAML file of named keys with their own limits and models (format: [API keys](#api-keys))' }),
  JWT_SECRET: secret({ minChars: MIN_SECRET_CHARS, commented: true, doc: 'accept HS256/384/512 JWTs signed with this secret (32+ characters); `sub` is the limits key, `exp` is required' }),
  JWT_PUBLIC_KEY: string({
    commented: true,
    check: pem => pem.includes('-----BEGIN') ? undefined : 'must be a PEM public key',
    doc: 'accept RS/PS/ES/EdDSA JWTs verified with this PEM public key, on one line with `\\n` escapes; not together with `JWT_SECRET`',
  }),
  JWT_ISSUER: string({ commented: true, doc: 'required `iss` claim of accepted JWTs' }),
  JWT_AUDIENCE: string({ commented: true, doc: 'required `aud` claim of accepted JWTs' }),
  ALLOW_UNAUTHENTICATED: bool({ default: false, doc: 'run without keys on a non-loopback `HOST` (only behind your own authentication)' }),
  TICKET_SECRET: secret({
    minChars: MIN_SECRET_CHARS,
    commented: true,
    defaultDoc: 'random per process',
    doc: 'HMAC-SHA256 secret for `EventSource` tickets (32+ characters); set the same on every instance, or a ticket works only on the instance that issued it',
  }),
  TICKET_TTL_MS: int({ default: SECURITY_DEFAULTS.ticketTtlMs, min: 100, max: 600_000, doc: 'lifetime of a ticket (single use) from `POST /v1/tickets`' }),
}

export const LIMITS = {
  RATE_LIMIT_MAX: int({ default: SECURITY_DEFAULTS.rateLimitMax, min: 0, max: 1_000_000, doc: 'requests per key (per client IP when anonymous) per window on `/v1/*`; `0` turns it off' }),
  RATE_LIMIT_WINDOW_MS: int({ default: SECURITY_DEFAULTS.rateLimitWindowMs, min: 1000, max: DAY_MS, doc: 'the rate-limit window' }),
  MAX_STREAMS_PER_KEY: int({ default: SECURITY_DEFAULTS.maxStreamsPerKey, min: 1, max: 100_000, doc: 'Bedrock calls (streams and `/v1/converse`) per key at once, held until the call ends (resume grace included); more answer 429 `too_many_streams`' }),
  MAX_OPEN_STREAMS: int({ default: SECURITY_DEFAULTS.maxOpenStreams, min: 1, max: 1_000_000, doc: 'open Bedrock calls on this instance, resume grace included; more answer 503 `server_busy`' }),
  MAX_FOLLOWERS_PER_KEY: int({ default: SECURITY_DEFAULTS.maxFollowersPerKey, min: 1, max: 100_000, doc: 'open followers (reconnects with `Last-Event-ID`, `GET /v1/streams/{id}`) per key at once; more answer 429 `too_many_streams`' }),
  MAX_OPEN_FOLLOWERS: int({ default: SECURITY_DEFAULTS.maxOpenFollowers, min: 1, max: 1_000_000, doc: 'open followers on this instance; more answer 503 `server_busy`' }),
  TOKEN_BUDGET_PER_KEY: int({ default: SECURITY_DEFAULTS.tokenBudgetPerKey, min: 0, max: Number.MAX_SAFE_INTEGER, doc: 'tokens (input + output) per key per period; `0` = no budget' }),
  BUDGET_CACHE_READ_PERCENT: int({ default: SECURITY_DEFAULTS.budgetCacheReadPercent, min: 0, max: 1000, doc: 'how much a prompt-cache read token counts in the budget, in percent of an input token (Bedrock bills cache reads at about a tenth)' }),
  BUDGET_CACHE_WRITE_PERCENT: int({ default: SECURITY_DEFAULTS.budgetCacheWritePercent, min: 0, max: 1000, doc: 'how much a prompt-cache write token counts in the budget, in percent of an input token (Bedrock bills cache writes at about 1.25 times)' }),
  TOKEN_BUDGET_PERIOD: enumOf({ values: BUDGET_PERIODS, default: SECURITY_DEFAULTS.tokenBudgetPeriod, doc: '`hour`, `day` or `month`, calendar periods in UTC' }),
  MAX_MESSAGES: int({ default: SECURITY_DEFAULTS.maxMessages, min: 1, max: 100_000, doc: 'messages per request' }),
  MAX_PROMPT_CHARS: int({ default: SECURITY_DEFAULTS.maxPromptChars, min: 1, max: 100_000_000, doc: 'characters of text per request (prompt + system + every message\'s text)' }),
}
