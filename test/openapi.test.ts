// One schema source (issue 9): the schemas that validate requests are published as an
// OpenAPI 3.1 document, which must be valid and list every route, the SSE endpoints with
// their event contract.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Validator } from '@seriousme/openapi-schema-validator'
import { RELAY_EVENT_TYPES } from '../src/events.js'
import { build } from './helper.js'

interface OpenApiDoc {
  openapi: string
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: { anyOf?: Array<{ properties: { event: { enum: string[] } } }> } }> }> }>>
}

test('GET /openapi.json is a valid OpenAPI 3.1 document with every route', async (t) => {
  const h = await build(t)
  const res = await fetch(`${h.url}/openapi.json`)
  assert.equal(res.status, 200)
  const doc = await res.json() as OpenApiDoc
  assert.equal(doc.openapi, '3.1.0')
  const validator = new Validator()
  const result = await validator.validate(doc as unknown as Parameters<Validator['validate']>[0])
  assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2))

  const documented = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map(m => `${m.toUpperCase()} ${path}`)).sort()
  const served = [...h.app.bedrockSse.routes.map(r => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`), 'GET /healthz', 'GET /readyz'].sort()
  assert.deepEqual(documented, served)

  const stream = doc.paths['/v1/converse-stream']?.['get']?.responses['200']?.content?.['text/event-stream']?.schema
  assert.deepEqual(stream?.anyOf?.map(e => e.properties.event.enum[0]), [...RELAY_EVENT_TYPES], 'the event contract, one entry per event')
})

test('validation errors name the field', async (t) => {
  const h = await build(t)
  const query = await fetch(`${h.url}/v1/converse-stream?prompt=hi&foo=1`)
  assert.equal(query.status, 400)
  assert.match((await query.json() as { error: { message: string } }).error.message, /querystring must NOT have additional properties: "foo"/)
  const body = await fetch(`${h.url}/v1/converse`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'hi', guardrailConfig: {} }) })
  assert.match((await body.json() as { error: { message: string } }).error.message, /body must NOT have additional properties: "guardrailConfig"/)
  assert.equal(h.emulator.requests.length, 0)
})
