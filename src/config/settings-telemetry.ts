// The table, part 3: observability (issue 8). When /metrics is served, and where traces go,
// are rules over several of these: src/telemetry/settings.ts.
import { MIN_SECRET_CHARS } from '../security/settings.js'
import { OBSERVABILITY_DEFAULTS } from '../telemetry/settings.js'
import { int, secret, string } from './kinds.js'

export const METRICS = {
  METRICS_PORT: int({ min: 0, max: 65535, example: '9464', commented: true, doc: 'serve `GET /metrics` on its own listener on this port (`0`: any free port) instead of `PORT`' }),
  METRICS_HOST: string({
    example: '127.0.0.1',
    commented: true,
    defaultDoc: '`HOST`',
    doc: 'address of that listener; only with `METRICS_PORT`. A non-loopback `HOST` with `METRICS_PORT` and no `METRICS_TOKEN` is refused unless this is set explicitly',
  }),
  METRICS_TOKEN: secret({ minChars: MIN_SECRET_CHARS, commented: true, doc: 'when set (32+ characters), `/metrics` requires `Authorization: Bearer <token>`' }),
}

export const TRACING = {
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: string({ example: 'http://127.0.0.1:4318/v1/traces', commented: true, doc: 'OTLP/HTTP traces URL (`…/v1/traces`): turns tracing on' }),
  OTEL_EXPORTER_OTLP_ENDPOINT: string({ example: 'http://127.0.0.1:4318', commented: true, doc: 'the collector\'s base URL, `/v1/traces` appended; used when the above is unset' }),
  OTEL_EXPORTER_OTLP_HEADERS: string({ commented: true, doc: 'headers sent to the collector (an API key, say), `name=value` pairs separated by commas, values URL-encoded' }),
  OTEL_SERVICE_NAME: string({ default: OBSERVABILITY_DEFAULTS.serviceName, doc: '`service.name` of the spans' }),
}

export const OVERLOAD = {
  PRESSURE_MAX_EVENT_LOOP_DELAY_MS: int({ default: OBSERVABILITY_DEFAULTS.pressureMaxEventLoopDelayMs, min: 0, max: 3_600_000, doc: 'mean event-loop delay (per one-second sample) past which new streams get 503 `server_overloaded`; `0` = not checked' }),
  PRESSURE_MAX_HEAP_PERCENT: int({ default: OBSERVABILITY_DEFAULTS.pressureMaxHeapPercent, min: 0, max: 100, doc: 'V8 heap in use after the last major GC, as a percentage of the heap the process can fill before it dies (V8\'s old-generation limit: `--max-old-space-size`, or derived from the machine\'s or the container\'s memory), past which new streams get 503 `server_overloaded`; `0` = not checked' }),
  PRESSURE_MAX_HEAP_BYTES: int({ default: OBSERVABILITY_DEFAULTS.pressureMaxHeapBytes, min: 0, max: Number.MAX_SAFE_INTEGER, doc: 'the same bound in bytes, in place of the percentage; `0` = the percentage applies' }),
  PRESSURE_MAX_RSS_PERCENT: int({ default: OBSERVABILITY_DEFAULTS.pressureMaxRssPercent, min: 0, max: 100, doc: 'resident memory (RSS), as a percentage of the container\'s memory limit (the cgroup limit Node sees), past which new streams get 503 `server_overloaded`: past the limit the kernel kills the process; no effect without a limit; `0` = not checked' }),
  PRESSURE_MAX_RSS_BYTES: int({ default: OBSERVABILITY_DEFAULTS.pressureMaxRssBytes, min: 0, max: Number.MAX_SAFE_INTEGER, doc: 'the same bound in bytes, in place of the percentage, with or without a container limit; `0` = the percentage applies' }),
}
