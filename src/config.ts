// loadConfig(env) is the only reader of process.env in the proxy (the AWS SDK reads its
// own credential variables). Every problem is collected and reported at once, so an
// operator fixes a broken deployment in one pass. `.env.example` lists the same
// variables in the same order; test/config.test.ts keeps the two in sync.

import { checkKeys, parseKeyList, readKeyFile } from './security/keys.js'
import { BUDGET_PERIODS, isLoopbackHost, MIN_SECRET_CHARS, parseTrustProxy, SECURITY_DEFAULTS, type BudgetPeriod, type SecurityConfig } from './security/settings.js'
import { metricsRule, OBSERVABILITY_DEFAULTS, parseOtlpHeaders, tracesUrl, type MetricsConfig, type PressureConfig, type TracingConfig } from './telemetry/settings.js'

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
  /** Time to receive a whole request, headers and body (never the response: SSE streams run longer). */
  requestTimeoutMs: number
  headersTimeoutMs: number
  /** Bytes of request bodies being received at once, across all requests; past it 503 server_busy. */
  bodiesInFlightMaxBytes: number
  /** Redis for cross-instance resume (and shared limits); undefined = in memory, single instance. */
  redisUrl: string | undefined
  streamTtlMs: number
  streamBufferMaxBytes: number
  resumeGraceMs: number
  corsOrigins: readonly string[]
  /** This server's public origin behind a reverse proxy that rewrites Host (FIELD-NOTES 23). */
  publicOrigin: string | undefined
  /** On SIGTERM: /readyz answers 503 but requests are still served this long, while load balancers notice. */
  shutdownDelayMs: number
  /** Authentication, tickets, origins, limits and budgets (src/security/settings.ts). */
  security: SecurityConfig
  demoPage: boolean
  shutdownTimeoutMs: number
  logLevel: string
  /** GET /metrics (src/telemetry/settings.ts has the rule for when it is served). */
  metrics: MetricsConfig
  /** OpenTelemetry traces over OTLP/HTTP; undefined = off (the SDK is not even loaded). */
  tracing: TracingConfig | undefined
  /** Overload bounds past which new streams get 503 server_overloaded. */
  pressure: PressureConfig
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
  requestTimeoutMs: 30_000, // a slow or stalled upload holds a socket and memory no longer than this (issue 7)
  headersTimeoutMs: 10_000,
  bodiesInFlightMaxBytes: 67_108_864, // 64 bodies at the default BODY_LIMIT_BYTES
  streamTtlMs: 300_000, // replay buffer kept this long after a stream ends
  streamBufferMaxBytes: 2_097_152,
  resumeGraceMs: 10_000, // a client that left has this long to come back before Bedrock is aborted
  // Load balancers poll readiness every few seconds (Kubernetes: 10 s period by default; endpoint
  // removal after the first 503 takes about as long): keep serving while they notice.
  shutdownDelayMs: 5_000,
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
  const requestTimeoutMs = int('REQUEST_TIMEOUT_MS', DEFAULTS.requestTimeoutMs, 100, 600_000)
  const headersTimeoutMs = int('HEADERS_TIMEOUT_MS', DEFAULTS.headersTimeoutMs, 100, 600_000)
  // Node refuses a headers timeout longer than the request timeout.
  if (headersTimeoutMs > requestTimeoutMs) problems.push(`HEADERS_TIMEOUT_MS (${headersTimeoutMs}) must not exceed REQUEST_TIMEOUT_MS (${requestTimeoutMs})`)
  const bodiesInFlightMaxBytes = int('BODIES_IN_FLIGHT_MAX_BYTES', DEFAULTS.bodiesInFlightMaxBytes, 1024, 16 * 1024 * 1_048_576)
  if (bodiesInFlightMaxBytes < bodyLimitBytes) problems.push(`BODIES_IN_FLIGHT_MAX_BYTES (${bodiesInFlightMaxBytes}) must be at least BODY_LIMIT_BYTES (${bodyLimitBytes})`)
  const redisUrl = str('REDIS_URL')
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) problems.push('REDIS_URL must start with redis:// or rediss://')
  const streamTtlMs = int('STREAM_TTL_MS', DEFAULTS.streamTtlMs, 0, 86_400_000)
  const streamBufferMaxBytes = int('STREAM_BUFFER_MAX_BYTES', DEFAULTS.streamBufferMaxBytes, 0, 1024 * 1_048_576)
  const resumeGraceMs = int('RESUME_GRACE_MS', DEFAULTS.resumeGraceMs, 0, 3_600_000)

  const corsOrigins = list('CORS_ORIGINS')
  for (const origin of corsOrigins) {
    if (origin === '*') problems.push('CORS_ORIGINS does not take "*": list exact origins such as https://app.example.com')
    else if (!isOrigin(origin)) problems.push(`CORS_ORIGINS has an invalid origin "${origin}" (scheme://host[:port], no path)`)
  }
  // Deployment (issue 8): the origin the browser sees, when a proxy rewrites Host.
  const publicOrigin = str('PUBLIC_ORIGIN')
  if (publicOrigin !== undefined && !isOrigin(publicOrigin)) problems.push(`PUBLIC_ORIGIN must be an origin such as https://chat.example.com (scheme://host[:port], no path; got "${publicOrigin}")`)
  // Checked against SHUTDOWN_TIMEOUT_MS below: the delay is part of the shutdown, not added to it.
  const shutdownDelaySet = str('SHUTDOWN_DELAY_MS') !== undefined
  let shutdownDelayMs = int('SHUTDOWN_DELAY_MS', DEFAULTS.shutdownDelayMs, 0, 600_000)

  // Security (issue 4): who may call, and how much. Parsing lives in src/security/.
  const apiKeys = parseKeyList(list('API_KEYS'), problems)
  const apiKeysFile = str('API_KEYS_FILE')
  if (apiKeysFile !== undefined) apiKeys.push(...readKeyFile(apiKeysFile, problems))
  checkKeys(apiKeys, new Set([defaultModelId, ...allowed]), problems)
  const jwtSecret = str('JWT_SECRET')
  const jwtPublicKey = str('JWT_PUBLIC_KEY')?.replaceAll('\\n', '\n') // PEM on one line, with \n escapes
  if (jwtSecret !== undefined && jwtPublicKey !== undefined) problems.push('Set JWT_SECRET or JWT_PUBLIC_KEY, not both')
  if (jwtSecret !== undefined && jwtSecret.length < MIN_SECRET_CHARS) problems.push(`JWT_SECRET must be at least ${MIN_SECRET_CHARS} characters`)
  if (jwtPublicKey !== undefined && !jwtPublicKey.includes('-----BEGIN')) problems.push('JWT_PUBLIC_KEY must be a PEM public key')
  const jwtIssuer = str('JWT_ISSUER')
  const jwtAudience = str('JWT_AUDIENCE')
  const allowUnauthenticated = bool('ALLOW_UNAUTHENTICATED', false)
  const authConfigured = apiKeys.length > 0 || jwtSecret !== undefined || jwtPublicKey !== undefined
  // Anyone who reaches the port can spend the Bedrock budget: off loopback, refuse to start open by accident.
  if (!authConfigured && !allowUnauthenticated && !isLoopbackHost(host)) {
    problems.push(`HOST=${host} is reachable from other machines and no API_KEYS, API_KEYS_FILE, JWT_SECRET or JWT_PUBLIC_KEY is set: configure one, or set ALLOW_UNAUTHENTICATED=true`)
  }
  const ticketSecret = str('TICKET_SECRET')
  if (ticketSecret !== undefined && ticketSecret.length < MIN_SECRET_CHARS) problems.push(`TICKET_SECRET must be at least ${MIN_SECRET_CHARS} characters`)
  const ticketTtlMs = int('TICKET_TTL_MS', SECURITY_DEFAULTS.ticketTtlMs, 100, 600_000)
  const trustProxy = parseTrustProxy(str('TRUST_PROXY')?.toLowerCase(), problems)
  const rateLimitMax = int('RATE_LIMIT_MAX', SECURITY_DEFAULTS.rateLimitMax, 0, 1_000_000)
  const rateLimitWindowMs = int('RATE_LIMIT_WINDOW_MS', SECURITY_DEFAULTS.rateLimitWindowMs, 1000, 86_400_000)
  const maxStreamsPerKey = int('MAX_STREAMS_PER_KEY', SECURITY_DEFAULTS.maxStreamsPerKey, 1, 100_000)
  const maxOpenStreams = int('MAX_OPEN_STREAMS', SECURITY_DEFAULTS.maxOpenStreams, 1, 1_000_000)
  const maxFollowersPerKey = int('MAX_FOLLOWERS_PER_KEY', SECURITY_DEFAULTS.maxFollowersPerKey, 1, 100_000)
  const maxOpenFollowers = int('MAX_OPEN_FOLLOWERS', SECURITY_DEFAULTS.maxOpenFollowers, 1, 1_000_000)
  const tokenBudgetPerKey = int('TOKEN_BUDGET_PER_KEY', SECURITY_DEFAULTS.tokenBudgetPerKey, 0, Number.MAX_SAFE_INTEGER)
  const tokenBudgetPeriod = (str('TOKEN_BUDGET_PERIOD') ?? SECURITY_DEFAULTS.tokenBudgetPeriod) as BudgetPeriod
  if (!BUDGET_PERIODS.includes(tokenBudgetPeriod)) problems.push(`TOKEN_BUDGET_PERIOD must be one of ${BUDGET_PERIODS.join(', ')} (got "${tokenBudgetPeriod}")`)
  const maxMessages = int('MAX_MESSAGES', SECURITY_DEFAULTS.maxMessages, 1, 100_000)
  const maxPromptChars = int('MAX_PROMPT_CHARS', SECURITY_DEFAULTS.maxPromptChars, 1, 100_000_000)
  const security: SecurityConfig = {
    apiKeys,
    jwt: jwtSecret !== undefined ? { secret: jwtSecret } : jwtPublicKey !== undefined ? { publicKey: jwtPublicKey } : undefined,
    jwtIssuer,
    jwtAudience,
    authMode: authConfigured ? 'keys' : isLoopbackHost(host) && !allowUnauthenticated ? 'loopback' : 'open',
    ticketSecret,
    ticketTtlMs,
    trustProxy,
    rateLimitMax,
    rateLimitWindowMs,
    maxStreamsPerKey,
    maxOpenStreams,
    maxFollowersPerKey,
    maxOpenFollowers,
    tokenBudgetPerKey,
    tokenBudgetPeriod,
    maxMessages,
    maxPromptChars,
  }

  const demoPage = bool('DEMO_PAGE', false)
  const shutdownTimeoutMs = int('SHUTDOWN_TIMEOUT_MS', DEFAULTS.shutdownTimeoutMs, 0, 600_000)
  if (!shutdownDelaySet) shutdownDelayMs = Math.min(DEFAULTS.shutdownDelayMs, Math.floor(shutdownTimeoutMs / 2)) // a short SHUTDOWN_TIMEOUT_MS keeps working
  else if (shutdownDelayMs > 0 && shutdownDelayMs >= shutdownTimeoutMs) {
    problems.push(`SHUTDOWN_DELAY_MS (${shutdownDelayMs}) must be less than SHUTDOWN_TIMEOUT_MS (${shutdownTimeoutMs}): the delay is part of the shutdown, and open streams need time to end after it`)
  }
  const logLevel = str('LOG_LEVEL') ?? DEFAULTS.logLevel
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}")`)

  // Observability (issue 8): metrics, traces, overload. Rules in src/telemetry/settings.ts.
  const metrics = metricsRule({
    port: str('METRICS_PORT') !== undefined ? int('METRICS_PORT', 0, 0, 65535) : undefined,
    host: str('METRICS_HOST'),
    token: str('METRICS_TOKEN'),
    mainHost: host,
    mainPort: port,
    authMode: security.authMode,
  }, problems)
  const otlpUrl = tracesUrl(str('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'), str('OTEL_EXPORTER_OTLP_ENDPOINT'), problems)
  const otlpHeaders = parseOtlpHeaders(str('OTEL_EXPORTER_OTLP_HEADERS'), problems)
  const serviceName = str('OTEL_SERVICE_NAME') ?? OBSERVABILITY_DEFAULTS.serviceName
  const tracing = otlpUrl !== undefined ? { url: otlpUrl, headers: otlpHeaders, serviceName } : undefined
  const pressure = {
    maxEventLoopDelayMs: int('PRESSURE_MAX_EVENT_LOOP_DELAY_MS', OBSERVABILITY_DEFAULTS.pressureMaxEventLoopDelayMs, 0, 3_600_000),
    maxHeapBytes: int('PRESSURE_MAX_HEAP_BYTES', OBSERVABILITY_DEFAULTS.pressureMaxHeapBytes, 0, Number.MAX_SAFE_INTEGER),
  }

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
    requestTimeoutMs,
    headersTimeoutMs,
    bodiesInFlightMaxBytes,
    redisUrl,
    streamTtlMs,
    streamBufferMaxBytes,
    resumeGraceMs,
    corsOrigins,
    publicOrigin,
    shutdownDelayMs,
    security,
    demoPage,
    shutdownTimeoutMs,
    logLevel,
    metrics,
    tracing,
    pressure,
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
