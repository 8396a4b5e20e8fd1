// The validated configuration loadConfig (load.ts) returns: what the rest of the proxy
// reads instead of the environment.
import type { FeaturePolicy } from '../bedrock/request-policy.js'
import type { SecurityConfig } from '../security/settings.js'
import type { MetricsConfig, PressureConfig, TracingConfig } from '../telemetry/settings.js'

export type Env = Record<string, string | undefined>

export type BedrockHttp = 'http1' | 'http2' | 'http2-shared'

export interface Config {
  port: number
  host: string
  /** The listen backlog (kernel-capped at net.core.somaxconn). */
  listenBacklog: number
  /** AWS_REGION, else AWS_DEFAULT_REGION; undefined = let the SDK try the profile (server.ts fails start-up if that finds none). */
  region: string | undefined
  /** AWS_ENDPOINT_URL_BEDROCK_RUNTIME, else AWS_ENDPOINT_URL: the emulator, a VPC endpoint. */
  endpoint: string | undefined
  defaultModelId: string
  /** Always contains defaultModelId. */
  allowedModels: ReadonlySet<string>
  /** OpenAI-style names (MODEL_ALIASES) -> allowed model ids; the OpenAI-compatible routes read them. */
  modelAliases: ReadonlyMap<string, string>
  maxOutputTokens: number
  /** What clients may ask of Bedrock beyond a plain conversation, and the server's guardrail (issue 12). */
  features: FeaturePolicy
  heartbeatMs: number
  upstreamFirstEventTimeoutMs: number
  upstreamIdleTimeoutMs: number
  /** http1: a keep-alive connection pool; http2: the SDK's default (a new connection per stream); http2-shared: streams share connections. */
  bedrockHttp: BedrockHttp
  /** http2-shared: streams at once on one connection. */
  http2StreamsPerConnection: number
  /** direct: calls built with the SDK's parts resolved once (bedrock/converse-call.ts); sdk: client.send per call. */
  bedrockCalls: 'direct' | 'sdk'
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
  /** Bytes the ended streams held for replay may take in all (oldest forgotten first); 0 = no bound. */
  endedStreamsMaxBytes: number
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
