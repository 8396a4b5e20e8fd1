// The observability part of the configuration (issue 8): metrics, tracing, overload.
// The variables are entries of the table in src/config/settings-telemetry.ts; the rules
// across them live here.
import { isLoopbackHost, type SecurityConfig } from '../security/settings.js'

export interface MetricsConfig {
  /** Serve /metrics at all (see metricsRule). */
  enabled: boolean
  /** Own listener for /metrics (0 = any free port); undefined = on the main port. */
  port: number | undefined
  /** Address of that listener: METRICS_HOST, else HOST. */
  host: string
  /** When set, /metrics requires `Authorization: Bearer <token>`. */
  token: string | undefined
}

export interface TracingConfig {
  /** The OTLP/HTTP traces URL (…/v1/traces). */
  url: string
  headers: Record<string, string>
  serviceName: string
}

export interface PressureConfig {
  /** Mean event-loop delay over a sample that refuses new streams; 0 = not checked. */
  maxEventLoopDelayMs: number
  /** V8 heap in use after a major GC that refuses new streams (PRESSURE_MAX_HEAP_BYTES, or the percent of V8's heap limit); 0 = not checked. */
  maxHeapBytes: number
  /** Resident memory that refuses new streams (PRESSURE_MAX_RSS_BYTES, or the percent of the container's limit); 0 = not checked. */
  maxRssBytes: number
}

export const OBSERVABILITY_DEFAULTS = {
  serviceName: 'bedrock-sse-proxy',
  // A mean delay of a second per sample is a stalled process, not a busy one: new streams
  // would only make every open one slower.
  pressureMaxEventLoopDelayMs: 1000,
  pressureMaxHeapBytes: 0, // 0: the bound is PRESSURE_MAX_HEAP_PERCENT of V8's heap limit
  // Of V8's heap limit (--max-old-space-size, or derived from the machine's or the container's
  // memory). The rest is room for the streams already open, which grow as tokens arrive:
  // past the limit the process dies with every stream it carries (issue 10).
  pressureMaxHeapPercent: 80,
  pressureMaxRssBytes: 0, // 0: the bound is PRESSURE_MAX_RSS_PERCENT of the container's memory limit
  // Of the container's memory limit: past it the kernel kills the process, every stream with
  // it. The heap bound comes first at Node's own heap sizing; this one holds when an operator
  // raises the heap (--max-old-space-size) close to the container's limit.
  pressureMaxRssPercent: 90,
} as const

export interface MetricsSettings {
  port: number | undefined
  host: string | undefined
  token: string | undefined
  mainHost: string
  mainPort: number
  authMode: SecurityConfig['authMode']
}

/**
 * The rule: /metrics is served when METRICS_TOKEN or METRICS_PORT is set, or when the
 * proxy runs in loopback mode (no keys, bound to loopback: the demo). Otherwise it is off,
 * so a deployment never publishes it by accident. With METRICS_PORT it is served only on
 * that listener (404 on the main port). Refused as unsafe: METRICS_HOST without
 * METRICS_PORT, the main port reused, and a token-less METRICS_PORT that would inherit a
 * non-loopback HOST (publishing it there must be an explicit METRICS_HOST). A short
 * METRICS_TOKEN is refused by the table, where it is a secret.
 */
export function metricsRule (s: MetricsSettings, problems: string[]): MetricsConfig {
  if (s.host !== undefined && s.port === undefined) problems.push('METRICS_HOST takes effect only with METRICS_PORT: set both, or neither')
  if (s.port !== undefined && s.port !== 0 && s.port === s.mainPort) problems.push('METRICS_PORT must differ from PORT (unset it to serve /metrics on the main port)')
  if (s.port !== undefined && s.token === undefined && s.host === undefined && !isLoopbackHost(s.mainHost)) {
    problems.push(`METRICS_PORT would listen on HOST=${s.mainHost}, reachable from other machines, without METRICS_TOKEN: set METRICS_TOKEN, or METRICS_HOST explicitly (127.0.0.1, or the address your scraper uses)`)
  }
  return {
    enabled: s.port !== undefined || s.token !== undefined || s.authMode === 'loopback',
    port: s.port,
    host: s.host ?? s.mainHost,
    token: s.token,
  }
}

/**
 * OTLP/HTTP traces URL from the standard variables: the signal-specific one is used as
 * is, the general one gets `/v1/traces` appended (OTLP exporter specification).
 */
export function tracesUrl (tracesEndpoint: string | undefined, endpoint: string | undefined, problems: string[]): string | undefined {
  const url = tracesEndpoint ?? (endpoint !== undefined ? `${endpoint.replace(/\/+$/, '')}/v1/traces` : undefined)
  if (url === undefined) return undefined
  try {
    const parsed = new URL(url)
    if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return url
  } catch {}
  problems.push(`${tracesEndpoint !== undefined ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT'} must be an http(s) URL`)
  return undefined
}

/** OTEL_EXPORTER_OTLP_HEADERS: `key=value,key2=value2`, values URL-encoded (W3C baggage format). */
export function parseOtlpHeaders (raw: string | undefined, problems: string[]): Record<string, string> {
  const headers: Record<string, string> = {}
  if (raw === undefined) return headers
  for (const pair of raw.split(',')) {
    const eq = pair.indexOf('=')
    const name = pair.slice(0, eq).trim()
    if (eq <= 0 || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      // Never echo the value: these headers usually carry an API key.
      problems.push('OTEL_EXPORTER_OTLP_HEADERS must be name=value pairs separated by commas')
      return {}
    }
    try {
      headers[name.toLowerCase()] = decodeURIComponent(pair.slice(eq + 1).trim())
    } catch {
      problems.push(`OTEL_EXPORTER_OTLP_HEADERS has a badly encoded value for ${name}`)
      return {}
    }
  }
  return headers
}
