// Finding a stream again: what makes a request a resume, and who may see a stream.
// (openReader is covered end to end by test/resume.test.ts and test/redis-resume.test.ts.)
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { lastEventIdHeader, mayAccess, resumePoint } from '../../src/streams/resume.js'

test('resumePoint: no id or an empty one is not a resume; a valid id is; anything else is invalid', () => {
  assert.equal(resumePoint(undefined), undefined)
  assert.equal(resumePoint(''), undefined)
  assert.deepEqual(resumePoint('0123456789abcdef01234567-12'), { streamId: '0123456789abcdef01234567', afterSeq: 12 })
  assert.deepEqual(resumePoint('abcdefgh-0'), { streamId: 'abcdefgh', afterSeq: 0 })
  for (const bad of ['not-an-id', 'abc-1', 'abcdefgh-', 'abcdefgh-1\n', ' ']) assert.equal(resumePoint(bad), 'invalid', JSON.stringify(bad))
})

test('lastEventIdHeader: the header when it is a non-empty string', () => {
  assert.equal(lastEventIdHeader({ 'last-event-id': 'abcdefgh-3' }), 'abcdefgh-3')
  assert.equal(lastEventIdHeader({ 'last-event-id': '' }), undefined)
  assert.equal(lastEventIdHeader({}), undefined)
})

test('mayAccess: an anonymous stream is anyone\'s; an owned one only its owner\'s', () => {
  assert.equal(mayAccess(undefined, undefined), true)
  assert.equal(mayAccess(undefined, 'key:a'), true)
  assert.equal(mayAccess('key:a', 'key:a'), true)
  assert.equal(mayAccess('key:a', 'key:b'), false)
  assert.equal(mayAccess('key:a', undefined), false, 'an anonymous caller cannot reach an owned stream')
})
