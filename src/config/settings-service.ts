// The table, part 1: the service itself (listening, Bedrock, requests, streams, browsers,
// shutdown). One entry per variable: its kind, default, bounds, checks and docs. The order
// here is the order of the README tables and of .env.example.
import { isModelId, isOrigin } from './checks.js'
import { DEFAULTS, LOG_LEVELS } from './defaults.js'
import { bool, enumOf, int, list, string } from './kinds.js'

const HOUR_MS = 3_600_000
const MIB = 1_048_576

export const SERVER = {
  PORT: int({ default: DEFAULTS.port, min: 0, max: 65535, doc: 'port to listen on' }),
  LISTEN_BACKLOG: int({ default: DEFAULTS.listenBacklog, min: 1, max: 65535, doc: 'connections waiting to be accepted that the kernel holds (the listen backlog; capped by the kernel at `net.core.somaxconn`): a burst of clients beyond it has connections dropped or reset instead of waiting their turn' }),
  HOST: string({ default: DEFAULTS.host, doc: 'address to bind; `127.0.0.1` keeps the proxy local, the Docker image sets `0.0.0.0`' }),
  LOG_LEVEL: enumOf({ values: LOG_LEVELS, default: DEFAULTS.logLevel, doc: '`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`; prompts and answers are never logged' }),
  DEMO_PAGE: bool({ default: false, doc: 'serve the demo page at `/` (`npm run demo` turns it on)' }),
}

export const BEDROCK = {
  // Region and endpoint pairs are checked together, as the SDK reads them (rules.ts).
  AWS_REGION: string({ example: 'us-east-1', doc: 'Bedrock region' }),
  AWS_DEFAULT_REGION: string({ example: 'us-east-1', commented: true, doc: 'fallback when `AWS_REGION` is unset (what boto3 users set); then the profile\'s region; with none, start-up fails naming `AWS_REGION`' }),
  AWS_ENDPOINT_URL_BEDROCK_RUNTIME: string({ example: 'http://127.0.0.1:4010', commented: true, doc: 'send Bedrock calls elsewhere: the local emulator (`npm run emulator`), a VPC endpoint' }),
  AWS_ENDPOINT_URL: string({ commented: true, doc: 'general fallback for `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`' }),
  BEDROCK_MODEL_ID: string({
    default: DEFAULTS.defaultModelId,
    check: id => isModelId(id) ? undefined : `is not a model id (got "${id}")`,
    doc: 'default model (id, inference profile id or ARN); always allowed',
  }),
  BEDROCK_ALLOWED_MODELS: list({
    check: id => id === '*'
      ? 'does not take "*": list the model ids you agree to pay for'
      : isModelId(id) ? undefined : `has an invalid model id "${id}"`,
    doc: 'comma list of other models clients may choose with `model`; unset means the default only; `*` is refused',
  }),
  // Checked against the allowlist in rules.ts (modelAliases).
  MODEL_ALIASES: list({
    check: pair => /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}=[A-Za-z0-9][A-Za-z0-9._:/-]{0,2047}$/.test(pair) ? undefined : `has an entry that is not alias=modelId ("${pair.slice(0, 100)}")`,
    doc: 'comma list of `alias=modelId` for the OpenAI-compatible routes, so a client that asks for `gpt-4o` runs on a Bedrock model of yours (`gpt-4o=us.anthropic.claude-sonnet-4-20250514-v1:0`); each model must be allowed; `GET /v1/models` lists the aliases too',
  }),
  MAX_OUTPUT_TOKENS: int({ default: DEFAULTS.maxOutputTokens, min: 1, max: 1_000_000, doc: 'output cap per request: a larger `maxTokens` is clamped, an unset one uses the cap (never the model\'s maximum)' }),
  UPSTREAM_FIRST_EVENT_TIMEOUT_MS: int({ default: DEFAULTS.upstreamFirstEventTimeoutMs, min: 100, max: HOUR_MS, doc: 'give up (`upstream_timeout`) when Bedrock sends no first event in time (the SDK has no timeout of its own)' }),
  UPSTREAM_IDLE_TIMEOUT_MS: int({ default: DEFAULTS.upstreamIdleTimeoutMs, min: 100, max: HOUR_MS, doc: 'give up (`upstream_timeout`) when Bedrock goes silent mid-stream (only counted while the proxy waits on Bedrock, not while a slow client reads)' }),
  BEDROCK_HTTP: enumOf({
    values: ['http1', 'http2', 'http2-shared'],
    default: DEFAULTS.bedrockHttp,
    doc: 'how the proxy talks to Bedrock: `http2-shared` runs up to `BEDROCK_HTTP2_STREAMS_PER_CONNECTION` calls at once on each HTTP/2 connection (one socket and one TLS handshake for many streams: the least CPU per token and memory per open stream; a dropped connection fails every stream on it, each with an `error` event); `http1` keeps a pool of keep-alive connections, one per open call, reused by the next (a fault touches one stream); `http2` is the SDK\'s own default, a new connection for every ConverseStream call',
  }),
  BEDROCK_HTTP2_STREAMS_PER_CONNECTION: int({ default: DEFAULTS.http2StreamsPerConnection, min: 1, max: 1000, doc: 'with `BEDROCK_HTTP=http2-shared`: calls at once on one connection; past it a new connection opens. An endpoint that allows fewer (its HTTP/2 `SETTINGS_MAX_CONCURRENT_STREAMS`) lowers the bound to its own once a connection has its settings; before that, a burst on a new connection can be refused in part, and the SDK retries what was refused' }),
  BEDROCK_CALLS: enumOf({
    values: ['direct', 'sdk'],
    default: DEFAULTS.bedrockCalls,
    doc: 'how each ConverseStream call is made: `direct` asks the SDK once what every call needs (the endpoint from its rules, its SigV4 signer and credential chain, its retry strategy, the HTTP handler above) and then builds, signs, sends and retries each call with those parts, without the SDK\'s per-call middleware pipeline (about half the proxy\'s CPU per stream set-up); `sdk` sends every call through the SDK\'s whole pipeline (`client.send`). A Bedrock API key (`AWS_BEARER_TOKEN_BEDROCK`) always goes the `sdk` way',
  }),
  CONVERSE_TIMEOUT_MS: int({ default: DEFAULTS.converseTimeoutMs, min: 100, max: HOUR_MS, doc: 'total time for a non-streaming answer (`POST /v1/converse`, `/v1/chat/completions` without `stream`), then `upstream_timeout`' }),
}

export const REQUESTS = {
  BODY_LIMIT_BYTES: int({ default: DEFAULTS.bodyLimitBytes, min: 1024, max: 100 * MIB, doc: 'largest accepted request body; a larger one answers 413 `body_too_large` (raise it for images)' }),
  REQUEST_TIMEOUT_MS: int({ default: DEFAULTS.requestTimeoutMs, min: 100, max: 600_000, doc: 'time to receive a whole request (headers and body), then 408 `request_timeout` and the connection closes; never cuts a streaming answer' }),
  HEADERS_TIMEOUT_MS: int({ default: DEFAULTS.headersTimeoutMs, min: 100, max: 600_000, doc: 'time to receive the request headers (at most `REQUEST_TIMEOUT_MS`)' }),
  BODIES_IN_FLIGHT_MAX_BYTES: int({ default: DEFAULTS.bodiesInFlightMaxBytes, min: 1024, max: 16 * 1024 * MIB, doc: 'bytes of request bodies being received at once across all requests (at least `BODY_LIMIT_BYTES`); past it 503 `server_busy`' }),
}

export const STREAMS = {
  HEARTBEAT_MS: int({ default: DEFAULTS.heartbeatMs, min: 100, max: HOUR_MS, doc: '`: ping` interval while a stream is idle (keeps proxies from cutting it)' }),
  REDIS_URL: string({
    example: 'redis://127.0.0.1:6379',
    commented: true,
    check: url => /^rediss?:\/\//.test(url) ? undefined : 'must start with redis:// or rediss://',
    doc: 'Redis for resumable streams across instances, and shared limits (`redis://` or `rediss://`); unset: in memory, one instance, so a stream resumes only on the instance that produced it',
  }),
  STREAM_TTL_MS: int({ default: DEFAULTS.streamTtlMs, min: 0, max: 24 * HOUR_MS, doc: 'how long a stream stays replayable after it ends' }),
  ENDED_STREAMS_MAX_PERCENT: int({ default: DEFAULTS.endedStreamsMaxPercent, min: 0, max: 100, doc: 'memory the ended streams held for replay (`STREAM_TTL_MS`) may take in all, as a percentage of the heap the process can fill (V8\'s old-generation limit); past it the oldest ended streams are forgotten first (a reconnect to one gets 204, as after the TTL); `0` = no bound' }),
  ENDED_STREAMS_MAX_BYTES: int({ default: DEFAULTS.endedStreamsMaxBytes, min: 0, max: Number.MAX_SAFE_INTEGER, doc: 'the same bound in bytes, in place of the percentage; `0` = the percentage applies' }),
  STREAM_BUFFER_MAX_BYTES: int({ default: DEFAULTS.streamBufferMaxBytes, min: 0, max: 1024 * MIB, doc: 'bound of one stream\'s replay buffer; past it the stream goes on live but cannot be resumed' }),
  RESUME_GRACE_MS: int({ default: DEFAULTS.resumeGraceMs, min: 0, max: HOUR_MS, doc: 'how long the upstream call keeps running after its client left, waiting for a reconnect; then the Bedrock call is aborted' }),
}

export const BROWSERS = {
  CORS_ORIGINS: list({
    check: origin => origin === '*'
      ? 'does not take "*": list exact origins such as https://app.example.com'
      : isOrigin(origin) ? undefined : `has an invalid origin "${origin}" (scheme://host[:port], no path)`,
    doc: 'exact browser origins allowed cross-site, comma separated; `*` is refused. Enforced server-side too (403)',
  }),
  // Deployment (issue 8): the origin the browser sees, when a proxy rewrites Host.
  PUBLIC_ORIGIN: string({
    commented: true,
    check: origin => isOrigin(origin) ? undefined : `must be an origin such as https://chat.example.com (scheme://host[:port], no path; got "${origin}")`,
    doc: 'this server\'s public origin (`https://chat.example.com`) behind a reverse proxy that rewrites `Host` and forwards no `X-Forwarded-Host` (or without `TRUST_PROXY`): requests from it, such as the demo page\'s Stop, are same-origin (see [Deploy](#deploy))',
  }),
  // Parsed by parseTrustProxy (src/security/settings.ts), in security.ts.
  TRUST_PROXY: string({ default: 'false', doc: 'trust `X-Forwarded-*` from: `true` (any hop), a hop count, or addresses/CIDRs (`loopback`, `10.0.0.0/8`); `false`: the peer address is the client (anonymous limits are keyed by it)' }),
}

export const SHUTDOWN = {
  // Unset, it shrinks to fit a short SHUTDOWN_TIMEOUT_MS (rules.ts: shutdownDelay).
  SHUTDOWN_DELAY_MS: int({
    default: DEFAULTS.shutdownDelayMs,
    min: 0,
    max: 600_000,
    defaultDoc: '`5000` (at most half of `SHUTDOWN_TIMEOUT_MS` when unset)',
    doc: 'on SIGTERM, how long `/readyz` answers 503 while requests are still served (load balancers notice), before open streams end with `error` `shutting_down` + `done`; part of `SHUTDOWN_TIMEOUT_MS` and less than it; SIGINT (Ctrl-C) skips it ([Shutdown](#shutdown))',
  }),
  SHUTDOWN_TIMEOUT_MS: int({ default: DEFAULTS.shutdownTimeoutMs, min: 0, max: 600_000, doc: 'on SIGTERM/SIGINT, the longest graceful shutdown, `SHUTDOWN_DELAY_MS` included, before the process exits anyway (code 1)' }),
}
