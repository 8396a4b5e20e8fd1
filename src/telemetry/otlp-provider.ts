// The OpenTelemetry SDK, loaded only when OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT is set:
// app.ts imports this module dynamically, so a proxy without tracing never loads it.
// SDK 3.x: @opentelemetry/sdk-trace replaces sdk-trace-base/-node and reads no
// environment; every setting comes from src/config.ts.
import type { TracerProvider } from '@opentelemetry/api'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BatchSpanProcessor, TracerProvider as SdkTracerProvider } from '@opentelemetry/sdk-trace'
import type { TracingConfig } from './settings.js'

export interface OwnedTracerProvider {
  provider: TracerProvider
  /** Flushes the spans still queued and stops the exporter. */
  shutdown: () => Promise<void>
}

export function createOtlpTracerProvider (config: TracingConfig): OwnedTracerProvider {
  const exporter = new OTLPTraceExporter({ url: config.url, headers: config.headers })
  const provider = new SdkTracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName }),
    // Batched: exporting never sits on a request's path.
    spanProcessors: [new BatchSpanProcessor({ exporter })],
  })
  return { provider, shutdown: () => provider.shutdown() }
}
