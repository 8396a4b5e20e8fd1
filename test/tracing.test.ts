// OpenTelemetry: a SERVER span per /v1 request with the Bedrock call as its CLIENT child,
// GenAI attributes, refusals marked; recorded by the real SDK with an in-memory exporter.
// And the OTLP path: OTEL_EXPORTER_OTLP_ENDPOINT exports to a collector, flushed on close.
import assert from 'node:assert/strict'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test, type TestContext } from 'node:test'
import { SpanKind, SpanStatusCode } from '@opentelemetry/api'
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace'
import { build, postSse, type Harness } from './helper.js'
import { eventually } from './support/wait.js'

const MODEL = 'test.model-v1:0'

async function traced (t: TestContext): Promise<{ h: Harness, exporter: InMemorySpanExporter }> {
  const exporter = new InMemorySpanExporter()
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] })
  t.after(() => provider.shutdown())
  const h = await build(t, { tracerProvider: provider })
  return { h, exporter }
}

async function spansWhen (exporter: InMemorySpanExporter, count: number): Promise<ReadableSpan[]> {
  await eventually(async () => exporter.getFinishedSpans().length >= count)
  return exporter.getFinishedSpans()
}

function pair (spans: ReadableSpan[]): { server: ReadableSpan, client: ReadableSpan } {
  const server = spans.find(s => s.kind === SpanKind.SERVER)
  const client = spans.find(s => s.kind === SpanKind.CLIENT)
  assert.ok(server !== undefined && client !== undefined, 'a request span and a Bedrock span')
  assert.equal(client.parentSpanContext?.spanId, server.spanContext().spanId, 'the Bedrock span is a child of the request span')
  assert.equal(client.spanContext().traceId, server.spanContext().traceId)
  return { server, client }
}

test('a completed stream: request span with the Bedrock call as child, GenAI attributes', async (t) => {
  const { h, exporter } = await traced(t)
  const res = await postSse(h.url, { prompt: 'hi' })
  const usage = res.events.find(e => e.event === 'usage')?.data as { inputTokens: number, outputTokens: number }
  const { server, client } = pair(await spansWhen(exporter, 2))
  assert.equal(server.name, 'POST /v1/converse-stream')
  assert.equal(server.attributes['http.response.status_code'], 200)
  assert.equal(server.attributes['bsp.outcome'], 'completed')
  assert.equal(client.name, `chat ${MODEL}`)
  assert.equal(client.attributes['gen_ai.system'], 'aws.bedrock')
  assert.equal(client.attributes['gen_ai.operation.name'], 'chat')
  assert.equal(client.attributes['gen_ai.request.model'], MODEL)
  assert.equal(client.attributes['gen_ai.usage.input_tokens'], usage.inputTokens)
  assert.equal(client.attributes['gen_ai.usage.output_tokens'], usage.outputTokens)
  assert.deepEqual(client.attributes['gen_ai.response.finish_reasons'], ['end_turn'])
  assert.equal(client.attributes['bsp.outcome'], 'completed')
  assert.equal(client.attributes['error.type'], undefined)
  assert.ok(!JSON.stringify([server.attributes, client.attributes]).includes('hi"'), 'no prompt in attributes')
})

test('an upstream error: the Bedrock span has error status and the error code', async (t) => {
  const { h, exporter } = await traced(t)
  const res = await postSse(h.url, { prompt: '/error' })
  const code = (res.events.find(e => e.event === 'error')?.data as { code: string }).code
  const { server, client } = pair(await spansWhen(exporter, 2))
  assert.equal(client.status.code, SpanStatusCode.ERROR)
  assert.equal(client.attributes['error.type'], code)
  assert.equal(client.attributes['bsp.outcome'], 'error')
  assert.equal(server.attributes['error.type'], code)
})

test('a refused request: a request span with the error code and no Bedrock span; health checks are not traced', async (t) => {
  const { h, exporter } = await traced(t)
  const res = await fetch(`${h.url}/v1/converse-stream`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'hi', model: 'no.such-v1:0' }) })
  assert.equal(res.status, 400)
  await fetch(`${h.url}/healthz`)
  const spans = await spansWhen(exporter, 1)
  assert.equal(spans.length, 1)
  assert.equal(spans[0]?.kind, SpanKind.SERVER)
  assert.equal(spans[0]?.attributes['error.type'], 'model_not_allowed')
  assert.equal(spans[0]?.attributes['http.response.status_code'], 400)
})

test('OTEL_EXPORTER_OTLP_ENDPOINT: spans reach the collector, with its headers, flushed when the app closes', async (t) => {
  const received: Array<{ url: string | undefined, headers: IncomingHttpHeaders, bytes: number }> = []
  const collector = createServer((req, res) => {
    let bytes = 0
    req.on('data', (chunk: Buffer) => { bytes += chunk.length })
    req.on('end', () => { received.push({ url: req.url, headers: req.headers, bytes }); res.writeHead(200).end() })
  })
  await new Promise<void>(resolve => collector.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>(resolve => { collector.closeAllConnections(); collector.close(() => resolve()) }))
  const { port } = collector.address() as AddressInfo
  const h = await build(t, { env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}/`, OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-key=abc%20def' } })
  await postSse(h.url, { prompt: 'hi' })
  assert.equal(received.length, 0, 'batched, not sent per span')
  await h.app.close()
  assert.ok(received.length >= 1, 'flushed on close')
  assert.equal(received[0]?.url, '/v1/traces')
  assert.equal(received[0]?.headers['x-collector-key'], 'abc def')
  assert.ok((received[0]?.bytes ?? 0) > 0)
})
