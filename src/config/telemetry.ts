// The observability part of the Config (issue 8). The rules (when /metrics is served, the
// traces URL, the OTLP headers format) live in src/telemetry/settings.ts.
import { totalmem } from 'node:os'
import { getHeapStatistics } from 'node:v8'
import type { SecurityConfig } from '../security/settings.js'
import { oldGenerationLimit } from '../telemetry/heap-limit.js'
import { metricsRule, parseOtlpHeaders, tracesUrl, type MetricsConfig, type PressureConfig, type TracingConfig } from '../telemetry/settings.js'
import type { Values } from './settings.js'

export function metricsConfig (v: Values, authMode: SecurityConfig['authMode'], problems: string[]): MetricsConfig {
  return metricsRule({
    port: v.METRICS_PORT,
    host: v.METRICS_HOST,
    token: v.METRICS_TOKEN,
    mainHost: v.HOST,
    mainPort: v.PORT,
    authMode,
  }, problems)
}

/** undefined when no OTLP endpoint is set: tracing off. */
export function tracingConfig (v: Values, problems: string[]): TracingConfig | undefined {
  const url = tracesUrl(v.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, v.OTEL_EXPORTER_OTLP_ENDPOINT, problems)
  const headers = parseOtlpHeaders(v.OTEL_EXPORTER_OTLP_HEADERS, problems)
  return url !== undefined ? { url, headers, serviceName: v.OTEL_SERVICE_NAME } : undefined
}

/** This process's old-generation limit: the heap it can fill before V8 kills it. */
export function processHeapLimit (): number {
  const nodeOptions = (process.env.NODE_OPTIONS ?? '').split(/\s+/).filter(a => a !== '')
  return oldGenerationLimit(getHeapStatistics().heap_size_limit, [...process.execArgv, ...nodeOptions])
}

/**
 * The memory limit of this process's container (its cgroup), or 0 without one: Node reports
 * no limit as 0 or as a number past the machine's memory (2^64 on Node 24).
 */
export function containerMemoryLimit (): number {
  const limit = process.constrainedMemory()
  return limit > 0 && limit < totalmem() ? limit : 0
}

/** The bound of the ended streams held for replay (see StreamHub). */
export function endedStreamsMaxBytes (v: Values, heapLimitBytes = processHeapLimit()): number {
  return v.ENDED_STREAMS_MAX_BYTES > 0 ? v.ENDED_STREAMS_MAX_BYTES : Math.floor(heapLimitBytes * v.ENDED_STREAMS_MAX_PERCENT / 100)
}

/**
 * @param heapLimitBytes the heap the process can fill (this process's, unless a test says otherwise).
 * @param memoryLimitBytes the container's memory limit, 0 for none (likewise).
 */
export function pressureConfig (v: Values, heapLimitBytes = processHeapLimit(), memoryLimitBytes = containerMemoryLimit()): PressureConfig {
  const share = (bytes: number, percent: number): number => Math.floor(bytes * percent / 100)
  return {
    maxEventLoopDelayMs: v.PRESSURE_MAX_EVENT_LOOP_DELAY_MS,
    maxHeapBytes: v.PRESSURE_MAX_HEAP_BYTES > 0 ? v.PRESSURE_MAX_HEAP_BYTES : share(heapLimitBytes, v.PRESSURE_MAX_HEAP_PERCENT),
    maxRssBytes: v.PRESSURE_MAX_RSS_BYTES > 0 ? v.PRESSURE_MAX_RSS_BYTES : share(memoryLimitBytes, v.PRESSURE_MAX_RSS_PERCENT),
  }
}
