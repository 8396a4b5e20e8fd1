// loadConfig(env) is the only reader of process.env in the proxy (the AWS SDK reads its
// own credential variables). Every problem is collected and reported at once, so an
// operator fixes a broken deployment in one pass. `.env.example` lists the same
// variables in the same order; test/config.test.ts keeps the two in sync.

export interface Config {
  port: number
  host: string
  /** AWS_REGION, else AWS_DEFAULT_REGION; undefined = let the SDK try the profile (server.ts fails start-up if that finds none). */
  region: string | undefined
  /** AWS_ENDPOINT_URL_BEDROCK_RUNTIME, else AWS_ENDPOINT_URL: the emulator, a VPC endpoint. */
  endpoint: string | undefined
  defaultModelId: string
  /** Always contains defaultModelId. */
  allowedModels: ReadonlySet<string>
  maxOutputTokens: number
  heartbeatMs: number
  upstreamFirstEventTimeoutMs: number
  upstreamIdleTimeoutMs: number
  converseTimeoutMs: number
  bodyLimitBytes: number
  corsOrigins: readonly string[]
  demoPage: boolean
  shutdownTimeoutMs: number
  logLevel: string
}

export type Env = Record<string, string | undefined>

/** Defaults, units in the names. Safe for production: output capped, no CORS, no demo page. */
export const DEFAULTS = {
  port: 3000,
  host: '127.0.0.1',
  defaultModelId: 'us.amazon.nova-lite-v1:0',
  maxOutputTokens: 2048,
  heartbeatMs: 15_000, // under the common 60 s proxy/load-balancer idle timeouts (FIELD-NOTES 16)
  upstreamFirstEventTimeoutMs: 60_000,
  upstreamIdleTimeoutMs: 30_000,
  converseTimeoutMs: 120_000,
  bodyLimitBytes: 1_048_576,
  shutdownTimeoutMs: 10_000,
  logLevel: 'info',
} as const

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']
// Bedrock model ids, inference profile ids and ARNs: letters, digits and . : / _ -
const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,2047}$/

export class ConfigError extends Error {
  readonly problems: readonly string[]
  constructor (problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

export function loadConfig (env: Env = process.env): Config {
  const problems: string[] = []
  const str = (name: string): string | undefined => {
    const value = env[name]?.trim()
    return value === '' ? undefined : value
  }
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = str(name)
    if (raw === undefined) return fallback
    const value = Number(raw)
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be an integer from ${min} to ${max} (got "${raw}")`)
      return fallback
    }
    return value
  }
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = str(name)?.toLowerCase()
    if (raw === undefined) return fallback
    if (['true', '1', 'yes'].includes(raw)) return true
    if (['false', '0', 'no'].includes(raw)) return false
    problems.push(`${name} must be true or false (got "${raw}")`)
    return fallback
  }
  const list = (name: string): string[] =>
    (str(name) ?? '').split(',').map(s => s.trim()).filter(s => s !== '')

  const port = int('PORT', DEFAULTS.port, 0, 65535)
  const host = str('HOST') ?? DEFAULTS.host

  const region = str('AWS_REGION') ?? str('AWS_DEFAULT_REGION')
  if (region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
    problems.push(`AWS_REGION must look like us-east-1 (got "${region}")`)
  }
  const endpoint = str('AWS_ENDPOINT_URL_BEDROCK_RUNTIME') ?? str('AWS_ENDPOINT_URL')
  if (endpoint !== undefined && !isHttpUrl(endpoint)) {
    problems.push(`AWS_ENDPOINT_URL_BEDROCK_RUNTIME must be an http(s) URL (got "${endpoint}")`)
  }

  const defaultModelId = str('BEDROCK_MODEL_ID') ?? DEFAULTS.defaultModelId
  if (!MODEL_ID.test(defaultModelId)) problems.push(`BEDROCK_MODEL_ID is not a model id (got "${defaultModelId}")`)
  const allowed = list('BEDROCK_ALLOWED_MODELS')
  for (const id of allowed) {
    if (id === '*') problems.push('BEDROCK_ALLOWED_MODELS does not take "*": list the model ids you agree to pay for')
    else if (!MODEL_ID.test(id)) problems.push(`BEDROCK_ALLOWED_MODELS has an invalid model id "${id}"`)
  }

  const maxOutputTokens = int('MAX_OUTPUT_TOKENS', DEFAULTS.maxOutputTokens, 1, 1_000_000)
  const heartbeatMs = int('HEARTBEAT_MS', DEFAULTS.heartbeatMs, 100, 3_600_000)
  const upstreamFirstEventTimeoutMs = int('UPSTREAM_FIRST_EVENT_TIMEOUT_MS', DEFAULTS.upstreamFirstEventTimeoutMs, 100, 3_600_000)
  const upstreamIdleTimeoutMs = int('UPSTREAM_IDLE_TIMEOUT_MS', DEFAULTS.upstreamIdleTimeoutMs, 100, 3_600_000)
  const converseTimeoutMs = int('CONVERSE_TIMEOUT_MS', DEFAULTS.converseTimeoutMs, 100, 3_600_000)
  const bodyLimitBytes = int('BODY_LIMIT_BYTES', DEFAULTS.bodyLimitBytes, 1024, 100 * 1_048_576)

  const corsOrigins = list('CORS_ORIGINS')
  for (const origin of corsOrigins) {
    if (origin === '*') problems.push('CORS_ORIGINS does not take "*": list exact origins such as https://app.example.com')
    else if (!isOrigin(origin)) problems.push(`CORS_ORIGINS has an invalid origin "${origin}" (scheme://host[:port], no path)`)
  }

  const demoPage = bool('DEMO_PAGE', false)
  const shutdownTimeoutMs = int('SHUTDOWN_TIMEOUT_MS', DEFAULTS.shutdownTimeoutMs, 0, 600_000)
  const logLevel = str('LOG_LEVEL') ?? DEFAULTS.logLevel
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}")`)

  if (problems.length > 0) throw new ConfigError(problems)
  return {
    port,
    host,
    region,
    endpoint,
    defaultModelId,
    allowedModels: new Set([defaultModelId, ...allowed]),
    maxOutputTokens,
    heartbeatMs,
    upstreamFirstEventTimeoutMs,
    upstreamIdleTimeoutMs,
    converseTimeoutMs,
    bodyLimitBytes,
    corsOrigins,
    demoPage,
    shutdownTimeoutMs,
    logLevel,
  }
}

function isHttpUrl (value: string): boolean {
  try {
    const url = new URL(value)
    return url.protocol === 'http:' || url.protocol === 'https:'
  } catch {
    return false
  }
}

function isOrigin (value: string): boolean {
  try {
    const url = new URL(value)
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value
  } catch {
    return false
  }
}
