// The chat page (public/) in a real headless Chromium against the demo (proxy + emulator):
// a conversation, what each kind of block looks like, errors said once with their code,
// model text rendered as text, accessibility (axe-core) in light and dark, and screenshots
// of a finished conversation at desktop and phone width (test-results/screenshots/: look at
// them). Needs /usr/bin/chromium (Debian `chromium`).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { startDemo } from '../src/demo.js'
import { composeReply, messageScenario, TRICKY_TEXT } from '../src/emulator/index.js'
import { answerAt, ask, launchBrowser, openPage, seriousViolations, settled, skipBrowser, textOf } from './support/browser.js'

const SCREENSHOTS = new URL('../test-results/screenshots/', import.meta.url)
const OTHER_MODEL = 'demo.other-model-v1:0'

interface SentMessage { role: string, content: Array<{ text?: string }> }
const messagesOf = (body: unknown): Array<[string, string | undefined]> =>
  (body as { messages: SentMessage[] }).messages.map((m) => [m.role, m.content[0]?.text])

// Records every length the last answer had as the page updated it: proof it streamed in steps.
const RECORD_LENGTHS = `
  window.__lengths = []
  new MutationObserver(() => {
    const answers = document.querySelectorAll('.turn.assistant .answer')
    window.__lengths.push(answers[answers.length - 1]?.textContent?.length ?? 0)
  }).observe(document.getElementById('log'), { subtree: true, childList: true, characterData: true })
`
const SCROLL_TO_END = 'window.scrollTo({ top: document.documentElement.scrollHeight })'

test('chat page in headless Chromium', { skip: skipBrowser, timeout: 90_000 }, async (t) => {
  const demo = await startDemo({ port: 0, host: '127.0.0.1', frameDelayMs: 5, env: { LOG_LEVEL: 'silent' } })
  t.after(() => demo.close())
  const browser = await launchBrowser(t)
  const { emulator } = demo

  await t.test('a two-turn conversation: the second request carries the first answer; reasoning, growth and usage show; New chat starts over', async (t) => {
    emulator.reset()
    const { page, pageErrors } = await openPage(t, browser, demo)
    await page.evaluate(RECORD_LENGTHS)
    const first = '/reasoning why is the sky blue?'
    await ask(page, first)
    assert.equal(await settled(page), 'done')
    assert.equal(await textOf(page, `${answerAt(1)} .answer`), composeReply(first))
    assert.equal(await page.locator(`${answerAt(1)} .reasoning`).isVisible(), true)
    assert.equal(await textOf(page, `${answerAt(1)} .reasoning-text`), 'The user wants to see reasoning. I will think briefly, then answer plainly.')
    assert.equal(await page.locator(`${answerAt(1)} .reasoning`).getAttribute('open'), null, 'folded once the answer started')
    const lengths = await page.evaluate<number[]>('window.__lengths')
    const steps = new Set(lengths.filter((n) => n > 0 && n < composeReply(first).length))
    assert.ok(steps.size >= 5, `the answer grew in steps: ${[...steps].join(', ')}`)
    const meta = await page.locator(`${answerAt(1)} .meta > span`).allTextContents()
    assert.equal(meta.length, 4, meta.join(' | '))
    assert.equal(meta[0], 'demo.emulated-model-v1:0')
    assert.match(meta[1] ?? '', /^first token \d+ ms$/)
    assert.match(meta[2] ?? '', /^\d+ in · \d+ out$/)
    assert.equal(meta[3], 'Bedrock 250 ms')

    const second = 'and at sunset?'
    await ask(page, second)
    assert.equal(await settled(page), 'done')
    assert.equal(await textOf(page, `${answerAt(2)} .answer`), composeReply(second))
    assert.equal(emulator.requests.length, 2)
    assert.deepEqual(messagesOf(emulator.requests[1]?.body), [['user', first], ['assistant', composeReply(first)], ['user', second]])
    assert.deepEqual(await page.locator('.turn.user .bubble').allTextContents(), [first, second])
    assert.equal(await textOf(page, '#status'), '')

    // New chat: an empty page, and the next question goes alone.
    await page.locator('#new-chat').click()
    assert.equal(await page.locator('.turn').count(), 0)
    assert.equal(await page.locator('#welcome').isVisible(), true)
    assert.equal(await page.evaluate('sessionStorage.getItem("bedrock-sse-proxy.chat")'), null)
    await ask(page, 'a fresh start')
    assert.equal(await settled(page), 'done')
    assert.deepEqual(messagesOf(emulator.requests[2]?.body), [['user', 'a fresh start']])
    assert.deepEqual(pageErrors, [])
  })

  await t.test('the model picker lists the server\'s models, default first, and sends the one picked; with Tools off no tool is offered nor run', async (t) => {
    emulator.reset()
    const { page, pageErrors } = await openPage(t, browser, demo)
    await page.locator('#model option[value="demo.emulated-model-v1:0"]').waitFor({ state: 'attached' })
    assert.deepEqual(await page.locator('#model option').evaluateAll((os) => os.map((o) => o.getAttribute('value'))), ['demo.emulated-model-v1:0', OTHER_MODEL])
    await page.selectOption('#model', OTHER_MODEL)
    // Tools off: the emulator's scripted get_weather call, which the page shows and does not answer.
    await page.locator('#tools').uncheck()
    await ask(page, '/tool weather in Paris')
    assert.equal(await settled(page), 'done')
    assert.equal(emulator.requests.length, 1)
    assert.equal((emulator.requests[0]?.body as { toolConfig?: unknown }).toolConfig, undefined)
    assert.equal(emulator.requests[0]?.modelId, OTHER_MODEL)
    assert.equal(await textOf(page, '.tool-name'), 'get_weather')
    assert.match(await textOf(page, '.tool-id'), /^tooluse_/)
    assert.deepEqual(JSON.parse(await textOf(page, '.tool-input')), { city: 'Paris', unit: 'celsius' })
    const meta = await page.locator(`${answerAt()} .meta > span`).allTextContents()
    assert.equal(meta[0], OTHER_MODEL)
    assert.equal(meta.at(-1), 'stop: tool_use')
    assert.deepEqual(pageErrors, [])
  })

  await t.test('citations are listed under the answer with their quote', async (t) => {
    emulator.reset()
    emulator.enqueue(messageScenario([{
      text: 'According to the handbook: streams resume.',
      citations: [{ title: 'handbook.pdf', sourceContent: [{ text: 'Streams resume after a drop.' }], location: { documentPage: { documentIndex: 0, start: 1, end: 2 } } }],
    }]))
    const { page, pageErrors } = await openPage(t, browser, demo)
    await ask(page, 'what does the handbook say?')
    assert.equal(await settled(page), 'done')
    assert.equal(await textOf(page, `${answerAt()} .answer`), 'According to the handbook: streams resume.')
    assert.deepEqual(await page.locator(`${answerAt()} .source`).allTextContents(), ['handbook.pdfStreams resume after a drop.'])
    assert.deepEqual(pageErrors, [])
  })

  await t.test('an in-stream error is said once, in the answer, with its code and a retry', async (t) => {
    emulator.reset()
    const { page, pageErrors } = await openPage(t, browser, demo)
    await ask(page, '/error')
    assert.equal(await settled(page), 'error')
    const notice = page.locator(`${answerAt()} .notice`)
    assert.equal(await notice.getAttribute('data-code'), 'upstream_error')
    assert.match(await notice.innerText(), /^The answer failed\. /)
    assert.equal(await page.locator('.notice:not([hidden])').count(), 1)
    assert.equal(await textOf(page, '#status'), '', 'not repeated in the status line')
    assert.equal(await notice.locator('button.retry').isEnabled(), true)
    assert.equal(await textOf(page, `${answerAt()} .answer`), `${composeReply('/error').split('. ')[0] ?? ''}.`, 'the partial text stays')
    assert.deepEqual(pageErrors, [])
  })

  await t.test('a refusal before the stream shows its real reason; an empty message sends nothing', async (t) => {
    emulator.reset()
    const { page, streamRequests, pageErrors } = await openPage(t, browser, demo)
    await page.press('#prompt', 'Enter')
    assert.equal(await page.locator('.turn').count(), 0)
    assert.equal(await textOf(page, '#status'), '')
    await page.evaluate('document.querySelector("#model").add(new Option("not allowed", "demo.not-allowed-v1:0"))')
    await page.selectOption('#model', 'demo.not-allowed-v1:0')
    await ask(page, 'hello')
    assert.equal(await settled(page), 'error')
    assert.equal(await page.locator('.notice').getAttribute('data-code'), 'model_not_allowed')
    assert.match(await page.locator('.notice').innerText(), /^Model not allowed\./)
    assert.equal(streamRequests.length, 1)
    assert.equal(emulator.requests.length, 0)
    assert.deepEqual(pageErrors, [])
  })

  await t.test('tricky text renders verbatim as text: no markup', async (t) => {
    emulator.reset()
    const { page, pageErrors } = await openPage(t, browser, demo)
    await ask(page, '/tricky')
    assert.equal(await settled(page), 'done')
    // Text nodes built from DOM APIs keep every code point (the HTML parser's NUL and CRLF
    // rules apply to parsed markup only), so the comparison is exact.
    assert.equal(await textOf(page, `${answerAt()} .answer`), TRICKY_TEXT)
    assert.deepEqual(await page.locator(`${answerAt()} .answer *`).evaluateAll((els) => els.map((el) => el.tagName)), ['SPAN'])
    assert.deepEqual(pageErrors, [])
  })

  await t.test('the client module over GET: EventSource, typed events, closed at done; a refusal fails with request_refused', async (t) => {
    emulator.reset()
    const { page, streamRequests, pageErrors } = await openPage(t, browser, demo)
    const run = (query: string): Promise<{ types: string[], text: string, stopReason?: string, state: string, code?: string }> => page.evaluate(`(async () => {
      const { streamConverse } = await import('/client.js')
      const types = []
      let text = ''
      const stream = streamConverse({ method: 'GET', ${query}, onEvent: (e) => { types.push(e.type); if (e.type === 'text') text += e.data.text } })
      try {
        const summary = await stream.result
        return { types, text, stopReason: summary.stopReason, state: stream.state }
      } catch (err) {
        return { types, text, state: stream.state, code: err.code }
      }
    })()`)
    const ok = await run("prompt: '/tricky'")
    assert.equal(ok.text, TRICKY_TEXT, 'a lone CR, CRLF, NUL and "\\n\\ndata:" survive EventSource intact')
    assert.equal(ok.types[0], 'start')
    assert.deepEqual(ok.types.slice(-4), ['block_stop', 'stop', 'usage', 'done'])
    assert.equal(ok.stopReason, 'end_turn')
    assert.equal(ok.state, 'done')
    const refused = await run("prompt: 'hi', model: 'demo.not-allowed-v1:0'")
    assert.deepEqual(refused, { types: [], text: '', state: 'failed', code: 'request_refused' })
    assert.deepEqual(streamRequests.map((r) => r.method), ['GET', 'GET'])
    assert.equal(emulator.requests.length, 1)
    assert.deepEqual(pageErrors, [])
  })

  await t.test('accessible in light and dark (axe-core: no serious violations); screenshots at desktop and phone width', async (t) => {
    emulator.reset()
    mkdirSync(SCREENSHOTS, { recursive: true })
    const { page, pageErrors } = await openPage(t, browser, demo, { viewport: { width: 1280, height: 900 } })
    for (const prompt of ['/reasoning how does streaming work?', '/tool what is the weather in Paris?', 'Thanks! One more: why Server-Sent Events?', '/error']) {
      await ask(page, prompt)
      await settled(page)
    }
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme })
      await page.setViewportSize({ width: 1280, height: 900 })
      await page.evaluate(SCROLL_TO_END)
      assert.deepEqual(await seriousViolations(page), [], colorScheme)
      await page.screenshot({ path: new URL(`chat-desktop-${colorScheme}.png`, SCREENSHOTS).pathname })
      await page.setViewportSize({ width: 390, height: 844 })
      await page.evaluate(SCROLL_TO_END)
      assert.deepEqual(await seriousViolations(page), [], `${colorScheme}, 390 px`)
      const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth')
      assert.ok(overflow <= 0, `no horizontal scrolling at 390 px (${overflow} px too wide)`)
      await page.screenshot({ path: new URL(`chat-phone-${colorScheme}.png`, SCREENSHOTS).pathname })
    }
    await page.locator(`${answerAt(1)} .reasoning summary`).focus()
    await page.keyboard.press('Enter')
    assert.equal(await page.locator(`${answerAt(1)} .reasoning`).getAttribute('open'), '', 'reasoning opens from the keyboard')
    assert.deepEqual(pageErrors, [])
  })
})
