// Defaults of the core settings, units in the names (the table in settings.ts refers to
// them; security/settings.ts and telemetry/settings.ts keep their own). Safe for
// production: output capped, bound to loopback, no CORS, no demo page.

export const DEFAULTS = {
  port: 3000,
  host: '127.0.0.1',
  // Connections the kernel holds for the proxy to accept. Node's default, 511, overflowed under
  // a burst (10,000 clients opening streams at once: 2 % were reset; EventSource clients
  // reconnecting together after a restart look the same). The kernel caps it at net.core.somaxconn.
  listenBacklog: 4096,
  defaultModelId: 'us.amazon.nova-lite-v1:0',
  maxOutputTokens: 2048,
  heartbeatMs: 15_000, // under the common 60 s proxy/load-balancer idle timeouts (FIELD-NOTES 16)
  upstreamFirstEventTimeoutMs: 60_000,
  upstreamIdleTimeoutMs: 30_000,
  // Calls multiplexed on HTTP/2 connections: one TLS handshake and one socket for many
  // streams (issue 10; README "Upstream connections").
  bedrockHttp: 'http2-shared',
  http2StreamsPerConnection: 100,
  // Calls built with the SDK's parts resolved once, not its per-call pipeline (issue 10).
  bedrockCalls: 'direct',
  converseTimeoutMs: 120_000,
  bodyLimitBytes: 1_048_576,
  requestTimeoutMs: 30_000, // a slow or stalled upload holds a socket and memory no longer than this (issue 7)
  headersTimeoutMs: 10_000,
  bodiesInFlightMaxBytes: 67_108_864, // 64 bodies at the default BODY_LIMIT_BYTES
  streamTtlMs: 300_000, // replay buffer kept this long after a stream ends
  streamBufferMaxBytes: 2_097_152,
  // Ended streams held for replay, in all: a share of the heap limit (a 512 MiB container: 64 MiB,
  // some 9,000 ended 50-token streams), the rest left to the streams that run.
  endedStreamsMaxPercent: 25,
  endedStreamsMaxBytes: 0, // 0: the bound is ENDED_STREAMS_MAX_PERCENT of the heap limit
  resumeGraceMs: 10_000, // a client that left has this long to come back before Bedrock is aborted
  // Load balancers poll readiness every few seconds (Kubernetes: 10 s period by default; endpoint
  // removal after the first 503 takes about as long): keep serving while they notice.
  shutdownDelayMs: 5_000,
  shutdownTimeoutMs: 10_000,
  logLevel: 'info',
} as const

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
