// public/client.js in Node against the real server (proxy + emulator over real HTTP): the
// module the demo page uses and the package exports as `bedrock-sse-proxy/client`. The
// EventSource transport needs a browser: test/demo-browser.test.ts covers it.
import assert from 'node:assert/strict'
import type { Socket } from 'node:net'
import { test } from 'node:test'
import { composeReply, textScenario } from '../src/emulator/index.js'
import { createSseParser, EVENT_TYPES, streamConverse, StreamError, type RelayEvent, type SseMessage } from '../public/client.js'
import { RELAY_EVENT_TYPES, type RelayEvent as ServerEvent } from '../src/events.js'
import { build } from './helper.js'
import { eventually } from './support/wait.js'

const ANSWER = 'Resumed 👩‍👩‍👧 answers\r\nlose\rno byte: \u2028 done. '.repeat(6)

function collect (): { events: RelayEvent[], onEvent: (e: RelayEvent) => void, text: () => string } {
  const events: RelayEvent[] = []
  return {
    events,
    onEvent: (e) => events.push(e),
    text: () => events.map((e) => e.type === 'text' ? e.data.text : '').join(''),
  }
}

// client.d.ts is written by hand (no build step); these fail to type-check when it and the
// contract (src/events.ts) drift apart. Only `error.code` is wider on the client (a string:
// a newer server's codes must not break an older page).
type Shape<E> = E extends { type: infer T, data: infer D } ? { type: T, data: D } : never
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
const sameEvents: Same<Shape<Exclude<RelayEvent, { type: 'error' }>>, Shape<Exclude<ServerEvent, { type: 'error' }>>> = true
const serverErrorsFit: [Shape<Extract<ServerEvent, { type: 'error' }>>] extends [Shape<Extract<RelayEvent, { type: 'error' }>>] ? true : false = true

test('the client knows every event type of the contract', () => {
  assert.deepEqual([...EVENT_TYPES], [...RELAY_EVENT_TYPES])
  assert.ok(sameEvents && serverErrorsFit)
})

/** Feeds `chunks` to a fresh parser and returns what it dispatched. */
function parse (...chunks: string[]): SseMessage[] {
  const out: SseMessage[] = []
  const parser = createSseParser((m) => out.push(m))
  for (const chunk of chunks) parser.feed(chunk)
  return out
}

test('the SSE parser: LF, CRLF and lone CR line ends, even split across chunks', () => {
  const expected = [{ type: 'text', data: '{"a":1}', id: '1' }, { type: 'text', data: '{"a":2}', id: '2' }]
  assert.deepEqual(parse('event: text\nid: 1\ndata: {"a":1}\n\nevent: text\nid: 2\ndata: {"a":2}\n\n'), expected)
  assert.deepEqual(parse('event: text\r\nid: 1\r\ndata: {"a":1}\r\n\r\nevent: text\r\nid: 2\r\ndata: {"a":2}\r\n\r\n'), expected)
  assert.deepEqual(parse('event: text\rid: 1\rdata: {"a":1}\r\revent: text\rid: 2\rdata: {"a":2}\r\r'), expected)
  // A CRLF cut between its CR and its LF is one line end, not two (which would dispatch early).
  assert.deepEqual(parse('event: text\r', '\nid: 1\r', '\ndata: {"a":1}\r', '\n\r', '\nevent: text\nid: 2\ndata: {"a":2}\n', '\n'), expected)
  const whole = 'event: text\r\nid: 1\r\ndata: {"a":1}\r\n\r\nevent: text\nid: 2\rdata: {"a":2}\n\n'
  assert.deepEqual(parse(...whole.split('')), expected, 'one character at a time')
})

test('the SSE parser: multi-line data, comments, no space after the colon, BOM, empty data, id carry-over', () => {
  assert.deepEqual(parse('\uFEFFdata: one\ndata:two\ndata\n\n'), [{ type: 'message', data: 'one\ntwo\n', id: '' }])
  assert.deepEqual(parse(': ping\n\n:\nevent: text\n: comment in the middle\nid: 7\ndata: x\n\n'), [{ type: 'text', data: 'x', id: '7' }])
  assert.deepEqual(parse('event: text\n\ndata: y\n\n'), [{ type: 'message', data: 'y', id: '' }], 'an event without data is not dispatched')
  assert.deepEqual(parse('id: 3\ndata: a\n\ndata: b\n\nid\ndata: c\n\n').map((m) => m.id), ['3', '3', ''], 'the last id carries over; an empty id resets it')
  assert.deepEqual(parse('id: bad\u0000\ndata: a\n\n').map((m) => m.id), [''], 'an id with NUL is ignored')
  assert.deepEqual(parse('data: half'), [], 'an unterminated event is not dispatched')
  assert.deepEqual(parse('retry: 10\nfoo: bar\ndata:  two spaces\n\n'), [{ type: 'message', data: ' two spaces', id: '' }])
})

test('streamConverse: a conversation by POST, typed events in order, the summary at done', async (t) => {
  const h = await build(t)
  const seen = collect()
  const messages = [
    { role: 'user' as const, content: 'first question' },
    { role: 'assistant' as const, content: 'first answer' },
    { role: 'user' as const, content: 'second question' },
  ]
  const stream = streamConverse({ url: `${h.url}/v1/converse-stream`, messages, onEvent: seen.onEvent })
  const iterated: string[] = []
  for await (const event of stream) iterated.push(event.type)
  const summary = await stream.result
  assert.equal(seen.text(), composeReply('second question'))
  assert.deepEqual(iterated, seen.events.map((e) => e.type), 'the iterator and onEvent see the same events')
  assert.equal(iterated[0], 'start')
  assert.deepEqual(iterated.slice(-4), ['block_stop', 'stop', 'usage', 'done'])
  assert.equal(summary.stopReason, 'end_turn')
  assert.equal(summary.error, undefined)
  assert.ok(summary.usage !== undefined && summary.usage.outputTokens > 0 && summary.usage.partial === undefined)
  assert.equal(summary.streamId, stream.streamId)
  assert.equal(typeof summary.firstTokenMs, 'number')
  assert.equal(stream.state, 'done')
  const sent = h.emulator.requests[0]?.body as { messages: Array<{ role: string, content: Array<{ text: string }> }> }
  assert.deepEqual(sent.messages.map((m) => [m.role, m.content[0]?.text]), messages.map((m) => [m.role, m.content]))
})

test('a refusal before the stream rejects with its code, status and Retry-After', async (t) => {
  const h = await build(t, { env: { RATE_LIMIT_MAX: '1', RATE_LIMIT_WINDOW_MS: '60000' } })
  const url = `${h.url}/v1/converse-stream`
  const notAllowed = streamConverse({ url, prompt: 'hi', model: 'not.allowed-v1:0' })
  await assert.rejects(notAllowed.result, (err: StreamError) => {
    assert.ok(err instanceof StreamError)
    assert.equal(err.code, 'model_not_allowed')
    assert.equal(err.status, 400)
    assert.equal(err.retryable, false)
    return true
  })
  const limited = streamConverse({ url, prompt: 'hi' })
  await assert.rejects(async () => { for await (const event of limited) assert.fail(`a refused stream has no events, got ${event.type}`) }, (err: StreamError) => {
    assert.equal(err.code, 'rate_limited')
    assert.equal(err.status, 429)
    assert.equal(err.retryable, true)
    assert.ok(err.retryAfterMs !== undefined && err.retryAfterMs > 0, String(err.retryAfterMs))
    return true
  })
  assert.equal(h.emulator.requests.length, 0)
})

test('cancel() sends the DELETE, the upstream call is aborted, and the final events arrive', async (t) => {
  const h = await build(t)
  const seen = collect()
  const stream = streamConverse({ url: `${h.url}/v1/converse-stream`, prompt: '/hang', onEvent: seen.onEvent })
  await h.emulator.waitForRequests(1)
  await eventually(() => stream.streamId !== undefined)
  const outcome = await stream.cancel()
  assert.deepEqual(outcome, { status: 'cancelling', httpStatus: 202 })
  assert.equal(await h.emulator.waitForOutcome(1), 'aborted')
  const summary = await stream.result
  assert.equal(summary.error?.code, 'cancelled')
  assert.equal(seen.events.at(-1)?.type, 'done')
  assert.equal(await stream.cancel(), outcome, 'a second cancel() reports the same outcome')
})

test('cancel() before the `start` event waits for it, then cancels the upstream call (not the grace period)', async (t) => {
  const h = await build(t)
  const stream = streamConverse({ url: `${h.url}/v1/converse-stream`, prompt: '/hang' })
  assert.equal(stream.streamId, undefined)
  const outcome = await stream.cancel() // at once: the request has not even been answered
  assert.deepEqual(outcome, { status: 'cancelling', httpStatus: 202 })
  // The grace period (10 s) would keep it running: only the DELETE ends it this soon.
  assert.equal(await h.emulator.waitForOutcome(1, 3000), 'aborted')
  // A stream the server refuses never starts: cancel() says so without waiting out the bound.
  const limited = await build(t, { env: { RATE_LIMIT_MAX: '1', RATE_LIMIT_WINDOW_MS: '60000' } })
  streamConverse({ url: `${limited.url}/v1/converse-stream`, prompt: 'hi' }).result.catch(() => {})
  const refused = streamConverse({ url: `${limited.url}/v1/converse-stream`, prompt: 'hi' })
  assert.deepEqual(await refused.cancel(), { status: 'not_started' })
  await assert.rejects(refused.result, { code: 'rate_limited' })
})

test('a refused cancel is reported as refused, with its code', async (t) => {
  // One request a minute: the stream is it, so the DELETE is refused (429).
  const h = await build(t, { env: { RATE_LIMIT_MAX: '1', RATE_LIMIT_WINDOW_MS: '60000', RESUME_GRACE_MS: '500' } })
  const stream = streamConverse({ url: `${h.url}/v1/converse-stream`, prompt: '/hang' })
  await h.emulator.waitForRequests(1)
  await eventually(() => stream.streamId !== undefined)
  const outcome = await stream.cancel()
  assert.equal(outcome.status, 'refused')
  assert.ok(outcome.status === 'refused' && outcome.httpStatus === 429 && outcome.error.code === 'rate_limited')
  assert.equal(stream.state, 'closed')
  // Not cancelled by the refused DELETE: the call ends by itself once nobody reads (the grace period).
  assert.equal(await h.emulator.waitForOutcome(1), 'aborted')
})

test('aborting the signal cancels the stream on the server at once', async (t) => {
  const h = await build(t)
  const controller = new AbortController()
  const stream = streamConverse({ url: `${h.url}/v1/converse-stream`, prompt: '/hang', signal: controller.signal })
  await h.emulator.waitForRequests(1)
  await eventually(() => stream.streamId !== undefined)
  controller.abort()
  await assert.rejects(stream.result, { code: 'closed' })
  // The grace period (10 s) would keep it running: only the DELETE aborts it this soon.
  assert.equal(await h.emulator.waitForOutcome(1, 3000), 'aborted')
})

test('a connection the server drops mid-answer resumes with Last-Event-ID: no gap, no duplicate, one upstream call', async (t) => {
  const h = await build(t)
  h.emulator.enqueue(textScenario(ANSWER, { chunkChars: 5, frameDelayMs: 15 }))
  const sockets: Socket[] = []
  const resumes: Array<string | undefined> = []
  h.app.server.on('request', (req: { url?: string, method?: string, socket: Socket, headers: Record<string, string | undefined> }) => {
    if (req.method === 'POST' && req.url === '/v1/converse-stream') sockets.push(req.socket)
    if (req.url?.startsWith('/v1/streams/') === true) resumes.push(req.headers['last-event-id'])
  })
  const seen = collect()
  const states: string[] = []
  const stream = streamConverse({ url: `${h.url}/v1/converse-stream`, prompt: 'hi', onEvent: seen.onEvent, onState: (s) => states.push(s) })
  await eventually(() => seen.events.filter((e) => e.type === 'text').length >= 4)
  sockets[0]?.destroy() // the network drops, server side
  const summary = await stream.result
  assert.equal(seen.text(), ANSWER)
  const ids = seen.events.map((e) => Number(e.id.split('-')[1]))
  assert.deepEqual(ids, ids.map((_, i) => i + 1), 'every event exactly once, in order')
  assert.equal(resumes.length, 1)
  assert.match(resumes[0] ?? '', /^[0-9a-f]{24}-\d+$/)
  assert.ok(states.includes('resuming'), states.join())
  assert.equal(summary.stopReason, 'end_turn')
  assert.equal(h.emulator.requests.length, 1, 'Bedrock was called once')
})
