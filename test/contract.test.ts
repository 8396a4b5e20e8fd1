// The documented contract and the code agree: the README's error table is the error
// catalogue, its event table is the event union. (The SSE framing: test/unit/format.test.ts.)
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { ERROR_CATALOGUE, ProxyError, type ErrorCode } from '../src/errors.js'
import { RELAY_EVENT_TYPES } from '../src/events.js'

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

function tableAfter (heading: string): string[][] {
  const start = README.indexOf(`\n## ${heading}\n`) >= 0 ? README.indexOf(`\n## ${heading}\n`) : README.indexOf(`\n### ${heading}\n`)
  assert.ok(start >= 0, `README has a "${heading}" section`)
  const lines = README.slice(start).split('\n')
  const first = lines.findIndex(l => l.startsWith('|'))
  const rows: string[][] = []
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith('|')) break
    rows.push(line.split('|').slice(1, -1).map(c => c.trim()))
  }
  return rows
}

test('the README error table lists exactly the catalogue, with its statuses and retryability', () => {
  const rows = tableAfter('Error codes')
  const documented = rows.map(r => (r[0] ?? '').replaceAll('`', ''))
  assert.deepEqual([...documented].sort(), Object.keys(ERROR_CATALOGUE).sort())
  for (const row of rows) {
    const code = (row[0] ?? '').replaceAll('`', '') as ErrorCode
    assert.equal(Number(row[2]), ERROR_CATALOGUE[code].status, `${code} status`)
    assert.equal(row[3] === 'yes', ERROR_CATALOGUE[code].retryable, `${code} retryable`)
  }
})

test('the README event table lists exactly the relay events, in order', () => {
  const rows = tableAfter('Events')
  assert.deepEqual(rows.map(r => (r[0] ?? '').replaceAll('`', '')), [...RELAY_EVENT_TYPES])
})

test('a ProxyError body carries code and message, never the cause', () => {
  const err = new ProxyError('upstream_denied', { cause: new Error('arn:aws:iam::123456789012:role/x') })
  assert.deepEqual(err.toBody(), { error: { code: 'upstream_denied', message: ERROR_CATALOGUE.upstream_denied.message } })
  assert.equal(err.status, 502)
})
