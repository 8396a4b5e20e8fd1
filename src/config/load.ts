// loadConfig(env): the environment in, a validated Config out. The AWS SDK reads its own
// credential variables; nothing else in the proxy reads process.env. Every problem is
// collected and reported at once, so an operator fixes a broken deployment in one pass:
// first each setting by its kind (read.ts), then the rules across settings.
import { featureConfig } from './features.js'
import { readSettings } from './read.js'
import { allowedModels, checkBodiesInFlight, modelAliases, checkRequestTimeouts, endpoint, region, shutdownDelay } from './rules.js'
import { securityConfig } from './security.js'
import { endedStreamsMaxBytes, metricsConfig, pressureConfig, tracingConfig } from './telemetry.js'
import type { Config, Env } from './types.js'

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
  const { values: v, isSet } = readSettings(env, problems)

  checkRequestTimeouts(v, problems)
  checkBodiesInFlight(v, problems)
  const security = securityConfig(v, problems)
  const config: Config = {
    port: v.PORT,
    host: v.HOST,
    listenBacklog: v.LISTEN_BACKLOG,
    region: region(v, problems),
    endpoint: endpoint(v, problems),
    defaultModelId: v.BEDROCK_MODEL_ID,
    allowedModels: allowedModels(v),
    modelAliases: modelAliases(v, allowedModels(v), problems),
    maxOutputTokens: v.MAX_OUTPUT_TOKENS,
    features: featureConfig(v, problems),
    heartbeatMs: v.HEARTBEAT_MS,
    upstreamFirstEventTimeoutMs: v.UPSTREAM_FIRST_EVENT_TIMEOUT_MS,
    upstreamIdleTimeoutMs: v.UPSTREAM_IDLE_TIMEOUT_MS,
    bedrockHttp: v.BEDROCK_HTTP,
    http2StreamsPerConnection: v.BEDROCK_HTTP2_STREAMS_PER_CONNECTION,
    bedrockCalls: v.BEDROCK_CALLS,
    converseTimeoutMs: v.CONVERSE_TIMEOUT_MS,
    bodyLimitBytes: v.BODY_LIMIT_BYTES,
    requestTimeoutMs: v.REQUEST_TIMEOUT_MS,
    headersTimeoutMs: v.HEADERS_TIMEOUT_MS,
    bodiesInFlightMaxBytes: v.BODIES_IN_FLIGHT_MAX_BYTES,
    redisUrl: v.REDIS_URL,
    streamTtlMs: v.STREAM_TTL_MS,
    streamBufferMaxBytes: v.STREAM_BUFFER_MAX_BYTES,
    endedStreamsMaxBytes: endedStreamsMaxBytes(v),
    resumeGraceMs: v.RESUME_GRACE_MS,
    corsOrigins: v.CORS_ORIGINS,
    publicOrigin: v.PUBLIC_ORIGIN,
    shutdownDelayMs: shutdownDelay(v, isSet('SHUTDOWN_DELAY_MS'), problems),
    security,
    demoPage: v.DEMO_PAGE,
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS,
    logLevel: v.LOG_LEVEL,
    // Whether /metrics is served depends on the auth mode (loopback: the demo).
    metrics: metricsConfig(v, security.authMode, problems),
    tracing: tracingConfig(v, problems),
    pressure: pressureConfig(v),
  }

  if (problems.length > 0) throw new ConfigError(problems)
  return config
}
