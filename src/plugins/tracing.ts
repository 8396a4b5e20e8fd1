// OpenTelemetry traces: one SERVER span per /v1 request, ended when its response closes
// (for a stream: when the client leaves or `done` is written), and one CLIENT span per
// Bedrock call as its child, built from the call's StreamSummary when it finishes (start
// time = end - duration), named and attributed per the GenAI semantic conventions
// (https://opentelemetry.io/docs/specs/semconv/gen-ai/aws-bedrock/). Prompts and answers
// are never recorded. Loaded by app.ts only when tracing is on.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span, type TracerProvider } from '@opentelemetry/api'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { StreamSummary } from '../bedrock/relay.js'
import { errorCodeOfPayload, modelLabel } from '../telemetry/labels.js'

export interface TracingOptions {
  provider: TracerProvider
}

/** GenAI attributes of one Bedrock call. */
export function bedrockCallAttributes (summary: StreamSummary, model: string): Attributes {
  return {
    'gen_ai.operation.name': 'chat',
    'gen_ai.system': 'aws.bedrock',
    'gen_ai.provider.name': 'aws.bedrock', // the newer name of gen_ai.system
    'gen_ai.request.model': model,
    ...(summary.stopReason !== undefined ? { 'gen_ai.response.finish_reasons': [summary.stopReason] } : {}),
    ...(summary.inputTokens !== undefined ? { 'gen_ai.usage.input_tokens': summary.inputTokens } : {}),
    ...(summary.outputTokens !== undefined ? { 'gen_ai.usage.output_tokens': summary.outputTokens } : {}),
    ...(summary.cacheReadInputTokens !== undefined ? { 'gen_ai.usage.cache_read.input_tokens': summary.cacheReadInputTokens } : {}),
    ...(summary.cacheWriteInputTokens !== undefined ? { 'gen_ai.usage.cache_creation.input_tokens': summary.cacheWriteInputTokens } : {}),
    ...(summary.timeToFirstTokenMs !== undefined ? { 'bsp.time_to_first_token_ms': summary.timeToFirstTokenMs } : {}),
    ...(summary.upstreamAttempts !== undefined ? { 'aws.sdk.attempts': summary.upstreamAttempts } : {}),
    ...(summary.partial === true ? { 'bsp.usage.partial': true } : {}),
    'bsp.outcome': summary.outcome,
    ...(summary.errorCode !== undefined ? { 'error.type': summary.errorCode } : {}),
  }
}

async function tracing (app: FastifyInstance, { provider }: TracingOptions): Promise<void> {
  const tracer = provider.getTracer('bedrock-sse-proxy')
  const spans = new WeakMap<FastifyRequest, Span>()

  // First of the onRequest hooks (registered before security), so refused requests have a span too.
  app.addHook('onRequest', async function startRequestSpan (request: FastifyRequest, reply: FastifyReply) {
    if (request.routeOptions.config.kind === undefined) return // spans for /v1 routes only
    const route = request.routeOptions.url ?? ''
    const span = tracer.startSpan(`${request.method} ${route}`, {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': request.method, 'http.route': route },
    })
    spans.set(request, span)
    reply.raw.once('close', function endRequestSpan () {
      span.setAttribute('http.response.status_code', reply.statusCode)
      if (!reply.raw.writableFinished) span.setAttribute('bsp.client_closed', true)
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR })
      span.end()
    })
  })

  app.addHook('onSend', async function recordRefusal (request: FastifyRequest, reply: FastifyReply, payload: unknown) {
    if (reply.statusCode >= 400) spans.get(request)?.setAttribute('error.type', errorCodeOfPayload(payload, reply.statusCode))
    return payload
  })

  app.callEvents.onFinished(function traceBedrockCall (request: FastifyRequest, summary: StreamSummary) {
    const parent = spans.get(request)
    const model = modelLabel(summary.model, app.proxyConfig.allowedModels)
    const span = tracer.startSpan(`chat ${model}`, {
      kind: SpanKind.CLIENT,
      startTime: Date.now() - summary.durationMs,
      attributes: bedrockCallAttributes(summary, model),
    }, parent !== undefined ? trace.setSpan(ROOT_CONTEXT, parent) : ROOT_CONTEXT)
    if (summary.outcome === 'error') span.setStatus({ code: SpanStatusCode.ERROR, message: summary.errorCode ?? 'error' })
    span.end()
    // A stream can outlive its request (the resume grace period): an ended span takes no more attributes.
    if (parent?.isRecording() === true) {
      parent.setAttributes({
        'gen_ai.request.model': model,
        'bsp.outcome': summary.outcome,
        ...(summary.errorCode !== undefined ? { 'error.type': summary.errorCode } : {}),
      })
    }
  })
}

export const tracingPlugin = fp(tracing, { name: 'bsp-tracing', fastify: '5.x', dependencies: ['bsp-core'] })
