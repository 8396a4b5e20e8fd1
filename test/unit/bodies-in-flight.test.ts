// The bodies-in-flight meter (plugins/bodies-in-flight.ts) costs nothing on a request that
// has no body: every waiting GET stream used to keep a metering Transform piped from its
// request, with its listeners, for its whole life (about 2 KiB each; issue 10).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
import { registerBodiesInFlight } from '../../src/plugins/bodies-in-flight.js'

async function listenersSeen (method: 'GET' | 'POST', body?: string): Promise<{ end: number, close: number }> {
  const app = Fastify()
  registerBodiesInFlight(app, 1_000_000)
  app.route({
    method,
    url: '/',
    handler: async (request) => ({ end: request.raw.listenerCount('end'), close: request.raw.listenerCount('close') }),
  })
  try {
    const answer = await app.inject({ method, url: '/', ...(body !== undefined ? { payload: body, headers: { 'content-type': 'application/json' } } : {}) })
    return answer.json()
  } finally {
    await app.close()
  }
}

test('a request without a body gets no meter: nothing piped from it, no listener added', async () => {
  const bare = Fastify()
  bare.get('/', async (request) => ({ end: request.raw.listenerCount('end'), close: request.raw.listenerCount('close') }))
  const unmetered = (await bare.inject({ method: 'GET', url: '/' })).json() as { end: number, close: number }
  await bare.close()
  assert.deepEqual(await listenersSeen('GET'), unmetered)
})

test('a request with a body is still metered', async () => {
  const seen = await listenersSeen('POST', '{"a":1}')
  assert.ok(seen.close >= 1, 'the meter gives its bytes back when the request closes')
})
