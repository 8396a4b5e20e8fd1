// The proxy's own Prometheus metrics (prefix bsp_), in a registry per app instance so a
// process can hold many apps (tests). Values come from finished calls (StreamSummary),
// refusals and heartbeats; gauges read their source at scrape time.
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { StreamSummary } from '../bedrock/relay.js'
import type { Principal } from '../security/principal.js'
import { keyLabel, modelLabel } from './labels.js'
import { processRegistry } from './process-metrics.js'

export interface MetricsSources {
  allowedModels: ReadonlySet<string>
  /** Label token counters by API key name (only when keys are configured). */
  byKey: boolean
  /** Streams whose upstream call runs (the hub). */
  runningStreams: () => number
  /** Open SSE responses and Converse calls. */
  openResponses: () => number
  /** Ended streams held for replay (the hub). */
  endedStreams: () => { count: number, bytes: number, evicted: number }
  /** 1 while new streams are refused for overload; undefined when no bound is configured. */
  underPressure: (() => boolean) | undefined
}

export type CallKind = 'stream' | 'converse'

const TTFT_BUCKETS_S = [0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60]
const DURATION_BUCKETS_S = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600]

export class ProxyMetrics {
  readonly registry = new Registry()
  readonly #sources: MetricsSources
  readonly #streams: Counter<'outcome' | 'code'>
  readonly #converseCalls: Counter<'outcome' | 'code'>
  readonly #ttft: Histogram<'model'>
  readonly #duration: Histogram<'model'>
  readonly #tokens: Record<'input' | 'output' | 'cacheRead' | 'cacheWrite', Counter<string>>
  readonly #upstreamCalls: Counter<'model'>
  readonly #upstreamRetries: Counter<'model'>
  readonly #refusals: Counter<'code'>
  readonly #heartbeats: Counter
  /** Held for their collect(); never read. */
  readonly #gauges: Gauge[]
  readonly #evicted: Counter

  constructor (sources: MetricsSources) {
    this.#sources = sources
    const registers = [this.registry]
    // Gauges read their source at scrape time (collect); registering them is all they need.
    const gauges = [
      new Gauge({ name: 'bsp_open_streams', help: 'Streams whose upstream Bedrock call is running.', registers, collect () { this.set(sources.runningStreams()) } }),
      new Gauge({ name: 'bsp_open_responses', help: 'Open SSE responses and /v1/converse calls.', registers, collect () { this.set(sources.openResponses()) } }),
      new Gauge({ name: 'bsp_ended_streams', help: 'Ended streams held for replay (STREAM_TTL_MS).', registers, collect () { this.set(sources.endedStreams().count) } }),
      new Gauge({ name: 'bsp_ended_streams_bytes', help: 'Bytes the ended streams held for replay take (bounded by ENDED_STREAMS_MAX_*).', registers, collect () { this.set(sources.endedStreams().bytes) } }),
    ]
    let evicted = 0
    this.#evicted = new Counter({
      name: 'bsp_ended_streams_evicted_total',
      help: 'Ended streams forgotten before their TTL to stay within ENDED_STREAMS_MAX_*.',
      registers,
      collect () {
        const now = sources.endedStreams().evicted
        this.inc(now - evicted)
        evicted = now
      },
    })
    const pressure = sources.underPressure
    if (pressure !== undefined) {
      gauges.push(new Gauge({ name: 'bsp_under_pressure', help: '1 while new streams are refused with server_overloaded.', registers, collect () { this.set(pressure() ? 1 : 0) } }))
    }
    this.#gauges = gauges
    this.#streams = new Counter({ name: 'bsp_streams_total', help: 'Finished streams by outcome and error code ("" when none).', labelNames: ['outcome', 'code'], registers })
    this.#converseCalls = new Counter({ name: 'bsp_converse_calls_total', help: 'Finished non-streaming calls (/v1/converse, /v1/chat/completions without stream) by outcome and error code.', labelNames: ['outcome', 'code'], registers })
    this.#ttft = new Histogram({ name: 'bsp_time_to_first_token_seconds', help: 'From the upstream call to its first event.', labelNames: ['model'], buckets: TTFT_BUCKETS_S, registers })
    this.#duration = new Histogram({ name: 'bsp_stream_duration_seconds', help: 'Duration of the upstream call of a stream.', labelNames: ['model'], buckets: DURATION_BUCKETS_S, registers })
    const tokenLabels = sources.byKey ? ['model', 'key'] : ['model']
    const tokens = (name: string, what: string): Counter<string> =>
      new Counter({ name, help: `${what} tokens by model${sources.byKey ? ' and API key name' : ''} (estimates included for cut streams).`, labelNames: tokenLabels, registers })
    this.#tokens = {
      input: tokens('bsp_input_tokens_total', 'Input'),
      output: tokens('bsp_output_tokens_total', 'Output'),
      cacheRead: tokens('bsp_cache_read_input_tokens_total', 'Cache-read input'),
      cacheWrite: tokens('bsp_cache_write_input_tokens_total', 'Cache-write input'),
    }
    this.#upstreamCalls = new Counter({ name: 'bsp_upstream_calls_total', help: 'Bedrock calls made (ConverseStream and Converse).', labelNames: ['model'], registers })
    this.#upstreamRetries = new Counter({ name: 'bsp_upstream_retries_total', help: 'Retries inside those calls, by the AWS SDK\'s retry strategy (attempts - 1).', labelNames: ['model'], registers })
    this.#refusals = new Counter({ name: 'bsp_refusals_total', help: 'Error answers (4xx/5xx) sent before any stream started, by error code.', labelNames: ['code'], registers })
    this.#heartbeats = new Counter({ name: 'bsp_heartbeats_total', help: 'Heartbeat comments (: ping) written to streams.', registers })
  }

  /** One finished upstream call. */
  callFinished (kind: CallKind, summary: StreamSummary, principal: Principal | null | undefined): void {
    const model = modelLabel(summary.model, this.#sources.allowedModels)
    const outcome = { outcome: summary.outcome, code: summary.errorCode ?? '' }
    if (kind === 'stream') {
      this.#streams.inc(outcome)
      this.#duration.observe({ model }, summary.durationMs / 1000)
      if (summary.timeToFirstTokenMs !== undefined) this.#ttft.observe({ model }, summary.timeToFirstTokenMs / 1000)
    } else {
      this.#converseCalls.inc(outcome)
    }
    this.#upstreamCalls.inc({ model })
    if (summary.upstreamAttempts !== undefined && summary.upstreamAttempts > 1) this.#upstreamRetries.inc({ model }, summary.upstreamAttempts - 1)
    const labels = this.#sources.byKey ? { model, key: keyLabel(principal) } : { model }
    const add = (counter: Counter<string>, n: number | undefined): void => { if (n !== undefined && n > 0) counter.inc(labels, n) }
    add(this.#tokens.input, summary.inputTokens)
    add(this.#tokens.output, summary.outputTokens)
    add(this.#tokens.cacheRead, summary.cacheReadInputTokens)
    add(this.#tokens.cacheWrite, summary.cacheWriteInputTokens)
  }

  refused (code: string): void {
    this.#refusals.inc({ code })
  }

  heartbeat (): void {
    this.#heartbeats.inc()
  }

  /** The exposition: this app's metrics, then the process's. */
  async render (): Promise<{ contentType: string, body: string }> {
    const [own, process] = await Promise.all([this.registry.metrics(), processRegistry().metrics()])
    return { contentType: this.registry.contentType, body: `${own}\n${process}` }
  }
}
