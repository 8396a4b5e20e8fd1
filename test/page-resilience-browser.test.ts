// The chat page when things go wrong, in a real headless Chromium against the demo (proxy
// + emulator): Stop and what the server answered to it, a network drop and a reload in the
// middle of an answer (no gap, no duplicate, one Bedrock call), rate limits and throttling
// with their real reason and a working retry, and a server with API keys (tickets).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { startDemo, type Demo, type DemoOptions } from '../src/demo.js'
import { composeReply, defaultResponder, textScenario, type Scenario } from '../src/emulator/index.js'
import {
  answerAt, ask, exhaustRateLimit, launchBrowser, openPage, RECONNECT_WINDOW_MS, seriousViolations, settled, skipBrowser, streamSockets, textOf,
} from './support/browser.js'
import { eventually } from './support/wait.js'

const API_KEY = 'page-test-key-0123456789abcdef'
// Long and slow enough (about 3 s) that a test can act in the middle of it.
const LONG_ANSWER = 'A resumed answer keeps every word exactly once. '.repeat(8).trim()
const slowAnswer = (): Scenario => textScenario(LONG_ANSWER, { chunkChars: 6, frameDelayMs: 40 })
const THROTTLED: Scenario = { httpError: { status: 429, type: 'ThrottlingException', message: 'Too many requests, please wait.' }, steps: [] }

async function demoWith (t: { after: (fn: () => Promise<void>) => void }, env: Record<string, string> = {}, opts: DemoOptions = {}): Promise<Demo> {
  const demo = await startDemo({ port: 0, host: '127.0.0.1', frameDelayMs: 5, ...opts, env: { LOG_LEVEL: 'silent', ...env } })
  t.after(() => demo.close())
  return demo
}

test('chat page resilience in headless Chromium', { skip: skipBrowser, timeout: 120_000 }, async (t) => {
  const demo = await demoWith(t)
  const browser = await launchBrowser(t)
  const { emulator } = demo

  await t.test('Stop aborts the upstream call and marks the answer stopped', async (t) => {
    emulator.reset()
    const { page, pageErrors } = await openPage(t, browser, demo)
    await ask(page, '/hang')
    await emulator.waitForRequests(1)
    await page.locator('#stop').click()
    assert.equal(await settled(page), 'stopped')
    assert.equal(await emulator.waitForOutcome(1, 3000), 'aborted')
    const notice = page.locator(`${answerAt()} .notice`)
    assert.match(await notice.innerText(), /^Stopped\. The server cancelled the upstream call/)
    assert.equal(await notice.getAttribute('class'), 'notice info')
    assert.equal(await page.locator('#send').isVisible(), true)
    assert.deepEqual(pageErrors, [])
  })

  await t.test('a refused Stop is reported as refused, with its code', async (t) => {
    const limited = await demoWith(t, { RATE_LIMIT_MAX: '20', RATE_LIMIT_WINDOW_MS: '60000', RESUME_GRACE_MS: '500' })
    const { page, pageErrors } = await openPage(t, browser, limited)
    await ask(page, '/hang')
    await limited.emulator.waitForRequests(1)
    await page.locator(`${answerAt()}[data-state="streaming"] .answer`).waitFor()
    await exhaustRateLimit(limited) // the DELETE is the next request: refused (429)
    await page.keyboard.press('Escape') // Esc stops, like the button
    assert.equal(await settled(page), 'stopped')
    const notice = page.locator(`${answerAt()} .notice`)
    assert.equal(await notice.getAttribute('data-code'), 'rate_limited')
    assert.match(await notice.innerText(), /^Stop refused\. /)
    assert.equal(await limited.emulator.waitForOutcome(1), 'aborted', 'the call ended by itself after the grace period')
    assert.deepEqual(pageErrors, [])
  })

  await t.test('a connection dropped mid-answer resumes: no gap, no duplicate, one Bedrock call', async (t) => {
    emulator.reset()
    emulator.enqueue(slowAnswer())
    const sockets = streamSockets(demo)
    const { page, streamRequests, pageErrors } = await openPage(t, browser, demo)
    await ask(page, 'tell me something long')
    await eventually(async () => (await textOf(page, `${answerAt()} .answer`)).length > 30, 5000, 'some text')
    assert.equal(sockets.length, 1)
    sockets[0]?.destroy() // the network drops, server side
    assert.equal(await settled(page), 'done')
    assert.equal(await textOf(page, `${answerAt()} .answer`), LONG_ANSWER)
    assert.equal(emulator.requests.length, 1, 'Bedrock was called once')
    assert.deepEqual(streamRequests.map((r) => r.method), ['POST', 'GET'])
    assert.match(streamRequests[1]?.headers['last-event-id'] ?? '', /^[0-9a-f]{24}-\d+$/, 'resumed after the last event it had')
    assert.deepEqual(pageErrors, [])
  })

  await t.test('a reload mid-answer picks the answer up, and a finished answer is never requested again', async (t) => {
    emulator.reset()
    emulator.enqueue(slowAnswer())
    const { page, streamRequests, pageErrors } = await openPage(t, browser, demo)
    await ask(page, 'first question')
    await eventually(async () => (await textOf(page, `${answerAt()} .answer`)).length > 30, 5000, 'some text')
    await page.reload()
    assert.equal(await textOf(page, '.turn.user .bubble'), 'first question', 'the conversation survived the reload')
    assert.equal(await settled(page), 'done')
    assert.equal(await textOf(page, `${answerAt()} .answer`), LONG_ANSWER)
    assert.equal(emulator.requests.length, 1)
    assert.deepEqual(streamRequests.map((r) => `${r.method} ${new URL(r.url).pathname.split('/').slice(0, 3).join('/')}`), ['POST /v1/converse-stream', 'GET /v1/streams'])
    // The page closed its EventSource at `done`: nothing reconnects into the finished stream.
    await sleep(RECONNECT_WINDOW_MS)
    assert.equal(streamRequests.length, 2, streamRequests.map((r) => r.url).join('\n'))
    assert.equal(emulator.requests.length, 1)
    // The next turn still carries the picked-up answer.
    await ask(page, 'second question')
    assert.equal(await settled(page), 'done')
    const sent = (emulator.requests[1]?.body as { messages: Array<{ content: Array<{ text: string }> }> }).messages.map((m) => m.content[0]?.text)
    assert.deepEqual(sent, ['first question', LONG_ANSWER, 'second question'])
    assert.deepEqual(pageErrors, [])
  })

  await t.test('an answer that can no longer be picked up after a reload says so, and its retry asks again', async (t) => {
    emulator.reset()
    const { page, pageErrors } = await openPage(t, browser, demo)
    // What the page stored for a running answer whose stream the server no longer has.
    await page.evaluate(`sessionStorage.setItem('bedrock-sse-proxy.chat', JSON.stringify([
      { user: 'an old question', state: 'streaming', streamId: 'abcdefabcdefabcdefabcdef', meta: {} },
    ]))`)
    await page.reload()
    assert.equal(await settled(page), 'error')
    const notice = page.locator(`${answerAt()} .notice`)
    assert.equal(await notice.getAttribute('data-code'), 'stream_gone')
    assert.match(await notice.innerText(), /^This answer is no longer available\. /)
    await notice.locator('button.retry').click()
    assert.equal(await settled(page), 'done')
    assert.equal(await textOf(page, `${answerAt()} .answer`), composeReply('an old question'))
    assert.equal(emulator.requests.length, 1)
    assert.deepEqual(pageErrors, [])
  })

  await t.test('rate limited: the real reason, a Retry-After countdown, and a retry that works', async (t) => {
    const limited = await demoWith(t, { RATE_LIMIT_MAX: '5', RATE_LIMIT_WINDOW_MS: '3000' })
    const { page, pageErrors } = await openPage(t, browser, limited)
    await page.locator('#model option[value="demo.emulated-model-v1:0"]').waitFor({ state: 'attached' })
    await exhaustRateLimit(limited)
    await ask(page, 'hello there')
    assert.equal(await settled(page), 'error')
    const notice = page.locator(`${answerAt()} .notice`)
    assert.equal(await notice.getAttribute('data-code'), 'rate_limited')
    assert.match(await notice.innerText(), /^Too many requests\. /)
    const retry = notice.locator('button.retry')
    assert.match(await retry.innerText(), /^Retry in [1-3] s$/)
    assert.equal(await retry.isDisabled(), true)
    await retry.and(page.locator(':enabled')).waitFor({ timeout: 6000 })
    await retry.click()
    assert.equal(await settled(page), 'done')
    assert.equal(await textOf(page, `${answerAt()} .answer`), composeReply('hello there'))
    assert.equal(await page.locator('.notice:not([hidden])').count(), 0)
    assert.equal(limited.emulator.requests.length, 1)
    assert.deepEqual(pageErrors, [])
  })

  await t.test('throttled by Bedrock: the real reason and a retry that works', async (t) => {
    emulator.reset()
    emulator.setResponder(() => THROTTLED)
    t.after(() => emulator.setResponder(defaultResponder))
    const { page, pageErrors } = await openPage(t, browser, demo)
    await ask(page, 'are you busy?')
    assert.equal(await settled(page), 'error')
    const notice = page.locator(`${answerAt()} .notice`)
    assert.equal(await notice.getAttribute('data-code'), 'upstream_throttled')
    assert.match(await notice.innerText(), /^Bedrock is throttling\. /)
    emulator.setResponder(defaultResponder)
    const retry = notice.locator('button.retry')
    await retry.and(page.locator(':enabled')).waitFor({ timeout: 6000 })
    await retry.click()
    assert.equal(await settled(page), 'done')
    assert.equal(await textOf(page, `${answerAt()} .answer`), composeReply('are you busy?'))
    assert.deepEqual(pageErrors, [])
  })

  await t.test('with API_KEYS: the key is asked once, kept for the tab, and streams followed by EventSource use tickets', async (t) => {
    const keyed = await demoWith(t, { API_KEYS: API_KEY })
    keyed.emulator.enqueue(slowAnswer())
    const { page, streamRequests, v1Requests, pageErrors } = await openPage(t, browser, keyed)
    await page.locator('#key-dialog[open]').waitFor()
    assert.deepEqual(await seriousViolations(page), [], 'the key dialog is accessible')
    assert.equal(await page.evaluate('document.activeElement.id'), 'key-input', 'focus is in the field')
    await page.fill('#key-input', API_KEY)
    await page.press('#key-input', 'Enter')
    await page.locator('#model option[value="demo.emulated-model-v1:0"]').waitFor({ state: 'attached' })
    await ask(page, 'a question with a key')
    await eventually(async () => (await textOf(page, `${answerAt()} .answer`)).length > 30, 5000, 'some text')
    await page.reload() // picked up through EventSource: a ticket, since EventSource cannot send the key
    assert.equal(await settled(page), 'done')
    assert.equal(await textOf(page, `${answerAt()} .answer`), LONG_ANSWER)
    assert.equal(await page.locator('#key-dialog[open]').count(), 0, 'not asked again after the reload')
    assert.equal(streamRequests[0]?.headers['authorization'], `Bearer ${API_KEY}`)
    const follow = new URL(streamRequests[1]?.url ?? 'http://x/')
    assert.ok(follow.pathname.startsWith('/v1/streams/') && follow.searchParams.has('ticket'), follow.href)
    assert.ok(v1Requests.includes('POST /v1/tickets'), v1Requests.join(', '))
    assert.equal(await page.evaluate('localStorage.length'), 0, 'the key is never kept beyond the tab')
    assert.equal(keyed.emulator.requests.length, 1)
    assert.deepEqual(pageErrors, [])
  })
})
