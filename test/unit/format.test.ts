// SSE frame encoding, tested on strings and read back with a WHATWG-conformant parser
// (eventsource-parser), as @fastify/sse tests its formatter.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { eventId, formatComment, formatEvent, formatEventJson, parseEventId } from '../../src/sse/format.js'
import { parseSse } from '../helper.js'

test('formatEvent: id, event, one data line of JSON, blank line', () => {
  assert.equal(formatEvent({ id: 'abc-1', event: 'text', data: { index: 0, text: 'hi' } }), 'id: abc-1\nevent: text\ndata: {"index":0,"text":"hi"}\n\n')
  assert.equal(formatEventJson('abc-2', 'done', '{}'), 'id: abc-2\nevent: done\ndata: {}\n\n')
})

test('model text cannot forge fields or events: lone CR, LF, CRLF and NUL are escaped by JSON', () => {
  const hostile = 'Hello\revent: admin\rid: 1\n\ndata: {"x":1}\r\n\r\nretry: 1\u0000\u2028end'
  const wire = formatEvent({ id: 'abc-1', event: 'text', data: { index: 0, text: hostile } })
  assert.equal(wire.split(/\r\n|\r|\n/).length, 5, 'id, event, data, blank line: nothing more')
  assert.ok(wire.includes('Hello\\revent: admin\\rid: 1\\n\\ndata'), 'CR and LF travel as JSON escapes')
  assert.ok(wire.includes('\\u0000'), 'NUL travels as a JSON escape')
  assert.ok(wire.includes('\u2028'), 'U+2028 is not a line break for SSE and passes as is')
  const { events } = parseSse(wire)
  assert.deepEqual(events, [{ id: 'abc-1', event: 'text', data: { index: 0, text: hostile } }])
})

test('an id or event name with CR, LF or NUL is refused, whichever of the two carries it', () => {
  for (const bad of ['a\nb', 'a\rb', 'a\r\nb', 'a\u0000b']) {
    assert.throws(() => formatEvent({ id: bad, event: 'text', data: {} }), /must not contain CR, LF or NUL/, JSON.stringify(bad))
    assert.throws(() => formatEventJson('a-1', bad, '{}'), /must not contain CR, LF or NUL/, JSON.stringify(bad))
  }
  assert.doesNotThrow(() => formatEvent({ id: 'a\u2028b', event: 'x y', data: {} }), 'other characters are fine')
})

test('formatComment is one comment line that clients ignore, even with line breaks in its text', () => {
  assert.equal(formatComment('ping'), ': ping\n\n')
  const wire = formatComment('ping\nevent: x\rdata: 1')
  assert.equal(wire, ': ping event: x data: 1\n\n')
  const { events, comments } = parseSse(wire)
  assert.deepEqual(events, [])
  assert.deepEqual(comments, ['ping event: x data: 1'])
})

test('event ids round-trip to the stream id and sequence', () => {
  assert.equal(eventId('0123456789abcdef01234567', 42), '0123456789abcdef01234567-42')
  assert.deepEqual(parseEventId(eventId('0123456789abcdef01234567', 42)), { streamId: '0123456789abcdef01234567', seq: 42 })
  assert.deepEqual(parseEventId('abc_DEF1-0'), { streamId: 'abc_DEF1', seq: 0 })
  assert.deepEqual(parseEventId(`${'a'.repeat(64)}-999999999`), { streamId: 'a'.repeat(64), seq: 999_999_999 })
})

test('parseEventId rejects anything else', () => {
  for (const bad of [
    '', 'nonsense', 'abc-1\n', 'abcdefgh-1\n', 'abcdefgh-', '-1', 'abcdefg-1', // stream id shorter than 8
    `${'a'.repeat(65)}-1`, 'abcdefgh-1234567890', // seq longer than 9 digits
    'abcdefgh--1', 'abcdefgh-1.5', 'abcdefgh-1e3', 'abc-defgh-1', 'abcdefgh-0x1', ' abcdefgh-1', 'abcdefgh-1 ',
  ]) assert.equal(parseEventId(bad), undefined, JSON.stringify(bad))
})
