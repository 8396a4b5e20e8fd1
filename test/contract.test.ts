// The documented contract and the code agree: the README's error table is the error
// catalogue, its event table is the event union, and the SSE framing is injection-proof.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { ERROR_CATALOGUE, ProxyError, type ErrorCode } from '../src/errors.js'
import { RELAY_EVENT_TYPES, sequenced, type SequencedEvent } from '../src/events.js'
import { toSseFrames } from '../src/sse/event-stream.js'
import { formatComment, formatEvent, parseEventId, eventId } from '../src/sse/format.js'
import { parseSse } from './helper.js'

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

test('formatEvent: model text cannot forge fields or events (lone CR, LF, CRLF, NUL)', () => {
  const hostile = 'Hello\revent: admin\rid: 1\n\ndata: {"x":1}\r\n\r\nretry: 1\u0000\u2028end'
  const wire = formatEvent({ id: 'abc-1', event: 'text', data: { index: 0, text: hostile } })
  assert.equal(wire.split(/\r\n|\r|\n/).length, 5, 'id, event, data, blank line: nothing more')
  const { events } = parseSse(wire)
  assert.deepEqual(events, [{ id: 'abc-1', event: 'text', data: { index: 0, text: hostile } }])
})

test('formatEvent refuses an id or event name that would break the framing', () => {
  assert.throws(() => formatEvent({ id: 'a\nb', event: 'text', data: {} }))
  assert.throws(() => formatEvent({ id: 'a', event: 'text\revent: x', data: {} }))
})

test('formatComment is a single comment line that clients ignore', () => {
  const { events, comments } = parseSse(formatComment('ping\nevent: x'))
  assert.deepEqual(events, [])
  assert.equal(comments.length, 1)
})

test('event ids round-trip to the stream id and sequence', () => {
  assert.deepEqual(parseEventId(eventId('0123456789abcdef01234567', 42)), { streamId: '0123456789abcdef01234567', seq: 42 })
  assert.equal(parseEventId('nonsense'), undefined)
  assert.equal(parseEventId('abc-1\n'), undefined)
})

test('a reader that throws mid-stream still ends the stream with error internal + done, and is reported', async () => {
  async function * broken (): AsyncGenerator<SequencedEvent> {
    yield sequenced(1, { type: 'text', data: { index: 0, text: 'hi' } })
    throw new Error('defect')
  }
  const defects: unknown[] = []
  let wire = ''
  for await (const frame of toSseFrames(broken(), 'abcdefabcdefabcdefabcdef', err => defects.push(err))) wire += frame
  const { events } = parseSse(wire)
  assert.deepEqual(events.map(e => [e.id, e.event]), [
    ['abcdefabcdefabcdefabcdef-1', 'text'],
    ['abcdefabcdefabcdefabcdef-2', 'error'],
    ['abcdefabcdefabcdefabcdef-3', 'done'],
  ])
  assert.equal((events[1]?.data as { code: string }).code, 'internal')
  assert.equal(defects.length, 1)
})
