// Guardrails (issue 12): the operator's guardrail goes on every call (or a key's own,
// from the keys file); clients can neither set nor remove it. An intervention ends the
// stream with stopReason guardrail_intervened and, with trace on, the trace in `usage`.
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { ConfigError, loadConfig } from '../src/config.js'
import { GUARDRAIL_BLOCKED_TEXT } from '../src/emulator/index.js'
import { build, joinText, lastEvent, postSse } from './helper.js'
import { bearer, KEY_A, KEY_B } from './security-helper.js'
import { dataOf, postJson, upstreamBody } from './support/converse.js'

const GUARDRAIL = { GUARDRAIL_IDENTIFIER: 'gr-server', GUARDRAIL_VERSION: '3', GUARDRAIL_TRACE: 'enabled' }

test('the server\'s guardrail is on every call; an intervention ends with guardrail_intervened and the trace in usage', async (t) => {
  const h = await build(t, { env: GUARDRAIL })
  const passed = await postSse(h.url, { prompt: 'hello' })
  assert.deepEqual(dataOf(passed.events, 'stop'), { stopReason: 'end_turn' })
  assert.deepEqual(upstreamBody(h.emulator.requests).guardrailConfig, { guardrailIdentifier: 'gr-server', guardrailVersion: '3', streamProcessingMode: 'sync', trace: 'enabled' })

  const blocked = await postSse(h.url, { prompt: '/guardrail tell me something forbidden' })
  assert.equal(joinText(blocked.events), GUARDRAIL_BLOCKED_TEXT)
  assert.deepEqual(dataOf(blocked.events, 'stop'), { stopReason: 'guardrail_intervened' })
  const trace = dataOf(blocked.events, 'usage')?.['trace'] as { guardrail: { inputAssessment: Record<string, unknown> } }
  assert.deepEqual(Object.keys(trace.guardrail.inputAssessment), ['gr-server'])
  assert.equal(lastEvent(blocked.events)?.event, 'done')
  // The emulator's fault commands still work under a guardrail (the demo's /truncate, /error ...).
  assert.equal(dataOf((await postSse(h.url, { prompt: '/truncate' })).events, 'error')?.['code'], 'upstream_truncated')
})

test('POST /v1/converse carries the guardrail too, checked before any text is gathered (sync, even where streams use async), and answers the trace', async (t) => {
  const h = await build(t, { env: { ...GUARDRAIL, GUARDRAIL_STREAM_PROCESSING_MODE: 'async' } })
  const res = await postJson(`${h.url}/v1/converse`, { prompt: '/guardrail no' })
  assert.equal(res.status, 200)
  assert.equal(res.json['stopReason'], 'guardrail_intervened')
  assert.ok(res.json['trace'] !== undefined)
  assert.deepEqual(upstreamBody(h.emulator.requests).guardrailConfig, { guardrailIdentifier: 'gr-server', guardrailVersion: '3', trace: 'enabled', streamProcessingMode: 'sync' })
})

test('a key\'s own guardrail in the keys file replaces the server\'s; other keys keep the server\'s', async (t) => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'bsp-keys-')), 'keys.yaml')
  writeFileSync(file, [
    'keys:',
    `  - { name: strict, key: ${KEY_A}, guardrail: { identifier: gr-strict, version: 1, streamProcessingMode: async, trace: enabled_full } }`,
    `  - { name: plain, key: ${KEY_B} }`,
  ].join('\n'))
  const h = await build(t, { env: { ...GUARDRAIL, API_KEYS_FILE: file } })
  h.secrets.add(KEY_A).add(KEY_B)
  await postSse(h.url, { prompt: 'a' }, { headers: { ...bearer(KEY_A), 'content-type': 'application/json' } })
  await postSse(h.url, { prompt: 'a' }, { headers: { ...bearer(KEY_B), 'content-type': 'application/json' } })
  assert.deepEqual(h.emulator.requests.map(r => (r.body as { guardrailConfig: unknown }).guardrailConfig), [
    { guardrailIdentifier: 'gr-strict', guardrailVersion: '1', streamProcessingMode: 'async', trace: 'enabled_full' },
    { guardrailIdentifier: 'gr-server', guardrailVersion: '3', streamProcessingMode: 'sync', trace: 'enabled' },
  ])
  assert.deepEqual(h.emulator.requests.map(r => (r.body as { requestMetadata: { proxyKey: string } }).requestMetadata.proxyKey), ['strict', 'plain'])
})

test('a client cannot send its own guardrailConfig (nor turn the server\'s off): 400, Bedrock not called', async (t) => {
  const h = await build(t, { env: GUARDRAIL })
  const res = await postJson(`${h.url}/v1/converse-stream`, { prompt: 'a', guardrailConfig: { guardrailIdentifier: 'none', guardrailVersion: '1' } })
  assert.equal(res.status, 400)
  assert.equal(h.emulator.requests.length, 0)
})

test('guardrail settings are checked at start-up: an id needs a version, and a key\'s guardrail its fields', () => {
  const problems = (env: Record<string, string>): readonly string[] => {
    try { loadConfig({ AWS_REGION: 'us-east-1', ...env }) } catch (err) { if (err instanceof ConfigError) return err.problems; throw err }
    return []
  }
  assert.deepEqual(problems({ GUARDRAIL_IDENTIFIER: 'gr-1' }), ['GUARDRAIL_IDENTIFIER needs GUARDRAIL_VERSION (DRAFT or a version number)'])
  assert.deepEqual(problems({ GUARDRAIL_VERSION: '1' }), ['GUARDRAIL_VERSION is set without GUARDRAIL_IDENTIFIER'])
  assert.deepEqual(problems({ GUARDRAIL_IDENTIFIER: 'gr-1', GUARDRAIL_VERSION: 'latest' }), ['GUARDRAIL_VERSION must be DRAFT or a version number (got "latest")'])
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'bsp-keys-')), 'keys.json')
  writeFileSync(file, JSON.stringify({ keys: [{ name: 'k', key: KEY_A, guardrail: { identifier: 'gr-1', trace: 'loud', off: true } }] }))
  assert.deepEqual(problems({ API_KEYS_FILE: file }), [
    'API_KEYS_FILE keys[0] (k).guardrail has unknown fields: off',
    'API_KEYS_FILE keys[0] (k).guardrail.version must be DRAFT or a version number',
    'API_KEYS_FILE keys[0] (k).guardrail.trace must be enabled, disabled or enabled_full',
  ])
})
