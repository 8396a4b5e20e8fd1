// The demo page (public/) in a real headless Chromium against the demo (proxy + emulator).
// What only a browser shows: EventSource's own reconnect (FIELD-NOTES 14: the page must
// close() on `done` and on Stop), Stop cancelling the upstream Bedrock call, and model
// text rendered as text, never markup. Needs /usr/bin/chromium (Debian `chromium`).
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { chromium, type Browser, type Page } from 'playwright-core'
import { startDemo, type Demo } from '../src/demo.js'
import { composeReply, TRICKY_TEXT } from '../src/emulator/index.js'

const CHROMIUM = '/usr/bin/chromium'
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-quic']
const OTHER_MODEL = 'demo.other-model-v1:0'
// Longer than EventSource's default reconnection time (about 3 s in Chromium).
// Waited out on purpose (twice below): proving that no reconnect comes means watching a window
// longer than EventSource's reconnect delay; an absence cannot be awaited.
const RECONNECT_WINDOW_MS = 4000
const FINAL_STATES = 'body:is([data-state="done"], [data-state="error"], [data-state="stopped"])'

// CI installs Chromium, so there a missing binary is a failure; elsewhere the file skips.
const missing = !existsSync(CHROMIUM)
const skip = missing && process.env['CI'] === undefined
  ? `${CHROMIUM} not found: install it (apt-get install chromium) to run the browser tests`
  : false

// Test-side probe: records every event a page's EventSource dispatches under a name the
// proxy never sends. `admin` is what /tricky would forge if a lone CR split a data line;
// `message` is what "\n\ndata: x" would forge if raw text reached the wire.
const FORGED_EVENT_PROBE = `
  window.__forged = []
  const Native = window.EventSource
  window.EventSource = class extends Native {
    constructor (...args) {
      super(...args)
      for (const type of ['admin', 'message']) this.addEventListener(type, (e) => window.__forged.push(type + ':' + e.data))
    }
  }
`

interface Session {
  page: Page
  /** Every request the page made to the stream route, in order. */
  streamRequests: string[]
  pageErrors: string[]
}

async function openPage (t: TestContext, browser: Browser, demo: Demo, initScript?: string): Promise<Session> {
  const context = await browser.newContext()
  t.after(() => context.close())
  if (initScript !== undefined) await context.addInitScript(initScript)
  const page = await context.newPage()
  const session: Session = { page, streamRequests: [], pageErrors: [] }
  page.on('request', (req) => { if (req.url().includes('/v1/converse-stream')) session.streamRequests.push(req.url()) })
  page.on('pageerror', (err) => session.pageErrors.push(err.message))
  await page.goto(`${demo.url}/`)
  return session
}

async function ask (page: Page, prompt: string, model?: string): Promise<void> {
  if (model !== undefined) await page.selectOption('#model', model)
  await page.fill('#prompt', prompt)
  await page.click('#send')
}

async function finalState (page: Page, timeoutMs = 15_000): Promise<string | null> {
  await page.waitForSelector(FINAL_STATES, { state: 'attached', timeout: timeoutMs })
  return page.getAttribute('body', 'data-state')
}

async function textOf (page: Page, selector: string): Promise<string> {
  return page.$eval(selector, (el) => el.textContent ?? '')
}

test('demo page in headless Chromium', { skip, timeout: 60_000 }, async (t) => {
  assert.ok(!missing, `${CHROMIUM} not found; CI must install the chromium package`)
  const demo = await startDemo({ port: 0, host: '127.0.0.1', frameDelayMs: 5, env: { LOG_LEVEL: 'silent' } })
  t.after(() => demo.close())
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
  t.after(() => browser.close())
  const { emulator } = demo

  await t.test('streams an answer, shows stop reason and usage, and never re-requests it', async (t) => {
    emulator.reset()
    const { page, streamRequests, pageErrors } = await openPage(t, browser, demo)
    const prompt = 'tell me about streaming proxies'
    await ask(page, prompt)
    assert.equal(await finalState(page), 'done')

    assert.equal(await textOf(page, '#answer'), composeReply(prompt))
    assert.match(await textOf(page, '#status'), /stopReason: end_turn/)
    const usage = Object.fromEntries(await page.$$eval('#usage .metric', (rows) =>
      rows.map((row) => [row.querySelector('dt')?.textContent, row.querySelector('dd')?.textContent])))
    const input = Number(usage['Input tokens'])
    const output = Number(usage['Output tokens'])
    assert.ok(Number.isInteger(input) && input > 0 && Number.isInteger(output) && output > 0, JSON.stringify(usage))
    assert.equal(Number(usage['Total tokens']), input + output)
    assert.match(String(usage['Latency']), /^\d+ ms$/)
    assert.equal(await page.isHidden('#error'), true)

    assert.equal(emulator.requests.length, 1)
    assert.equal(await emulator.waitForOutcome(1, 2000), 'completed')
    assert.equal(emulator.requests[0]?.modelId, 'demo.emulated-model-v1:0')
    // The page closed the EventSource on `done`: no reconnect reached the proxy (which would
    // answer 204) nor Bedrock.
    await sleep(RECONNECT_WINDOW_MS)
    assert.equal(streamRequests.length, 1, streamRequests.join('\n'))
    assert.equal(emulator.requests.length, 1)
    assert.deepEqual(pageErrors, [])
  })

  await t.test('reasoning is shown apart from the answer, with its signature noted', async (t) => {
    emulator.reset()
    const { page, pageErrors } = await openPage(t, browser, demo)
    const prompt = '/reasoning why is the sky blue?'
    await ask(page, prompt)
    assert.equal(await finalState(page), 'done')
    assert.equal(await page.isVisible('#reasoning'), true)
    assert.equal(await textOf(page, '#reasoning .reasoning-text'), 'The user wants to see reasoning. I will think briefly, then answer plainly.')
    assert.match(await textOf(page, '#reasoning .note'), /signature: emulator-signature-\d+/)
    assert.equal(await textOf(page, '#answer'), composeReply(prompt))
    assert.deepEqual(pageErrors, [])
  })

  await t.test('a tool call shows its name and parsed input (and the model select is sent)', async (t) => {
    emulator.reset()
    const { page, pageErrors } = await openPage(t, browser, demo)
    await ask(page, '/tool weather in Paris', OTHER_MODEL)
    assert.equal(await finalState(page), 'done')
    assert.match(await textOf(page, '#status'), /stopReason: tool_use/)
    assert.equal(await textOf(page, '#tools .tool-name'), 'get_weather')
    assert.match(await textOf(page, '#tools .tool-id'), /^tooluse_/)
    assert.equal(await page.getAttribute('#tools .tool', 'data-parsed'), 'true')
    const input = await textOf(page, '#tools .tool-input')
    assert.deepEqual(JSON.parse(input), { city: 'Paris', unit: 'celsius' })
    assert.match(input, /\n {2}"city"/, 'pretty-printed')
    assert.equal(await textOf(page, '#answer'), 'Let me check the weather for you.')
    assert.equal(emulator.requests[0]?.modelId, OTHER_MODEL)
    assert.deepEqual(pageErrors, [])
  })

  await t.test('an in-stream error shows the banner with its code', async (t) => {
    emulator.reset()
    const { page, pageErrors } = await openPage(t, browser, demo)
    await ask(page, '/error')
    assert.equal(await finalState(page), 'error')
    assert.equal(await page.isVisible('#error'), true)
    assert.equal(await page.getAttribute('#error', 'data-code'), 'upstream_error')
    assert.match(await textOf(page, '#error'), /^upstream_error .+ Retryable\.$/)
    assert.match(await textOf(page, '#status'), /upstream_error/)
    assert.equal(await textOf(page, '#answer'), `${composeReply('/error').split('. ')[0] ?? ''}.`)
    assert.deepEqual(pageErrors, [])
  })

  await t.test('tricky text renders verbatim as text: no forged event, no markup', async (t) => {
    emulator.reset()
    const { page, pageErrors } = await openPage(t, browser, demo, FORGED_EVENT_PROBE)
    await ask(page, '/tricky')
    assert.equal(await finalState(page), 'done')
    // Text nodes built from DOM APIs keep every code point (the HTML parser's NUL and CRLF
    // rules apply to parsed markup only), so the comparison is exact: \r\n, lone \r,
    // U+2028, NUL and the ZWJ emoji sequence all survive.
    assert.equal(await textOf(page, '#answer'), TRICKY_TEXT)
    assert.deepEqual(await page.$$eval('#answer *', (els) => els.map((el) => el.tagName)), ['SPAN'])
    assert.deepEqual(await page.evaluate('window.__forged'), [])
    assert.deepEqual(pageErrors, [])
  })

  await t.test('a refused request or an empty prompt never reaches Bedrock', async (t) => {
    emulator.reset()
    const { page, streamRequests, pageErrors } = await openPage(t, browser, demo)
    await page.click('#send') // empty prompt: validated in the page
    assert.equal(await page.getAttribute('body', 'data-state'), 'idle')
    assert.match(await textOf(page, '#status'), /Type a prompt/)
    // A model the server does not allow: 400 before any stream; EventSource only says "error".
    await page.evaluate('document.querySelector("#model").add(new Option("not allowed", "demo.not-allowed-v1:0"))')
    await ask(page, 'hello', 'demo.not-allowed-v1:0')
    assert.equal(await finalState(page), 'error')
    assert.equal(await page.getAttribute('#error', 'data-code'), 'request_refused')
    assert.equal(streamRequests.length, 1)
    assert.equal(emulator.requests.length, 0)
    assert.deepEqual(pageErrors, [])
  })

  await t.test('Stop closes the stream and the upstream call is cancelled', async (t) => {
    emulator.reset()
    const { page, streamRequests, pageErrors } = await openPage(t, browser, demo)
    await ask(page, '/hang')
    await emulator.waitForRequests(1, 5000)
    await page.waitForSelector('#status:text("Streaming from")', { timeout: 5000 })
    assert.equal(await page.isEnabled('#stop'), true)
    await page.click('#stop')
    assert.equal(await finalState(page), 'stopped')
    assert.match(await textOf(page, '#status'), /the server cancelled the upstream call/)
    assert.equal(await page.isEnabled('#send'), true)
    assert.equal(await emulator.waitForOutcome(1, 2000), 'aborted')
    await sleep(RECONNECT_WINDOW_MS)
    assert.equal(streamRequests.length, 1, streamRequests.join('\n'))
    assert.equal(emulator.requests.length, 1)
    assert.deepEqual(pageErrors, [])
  })

  // Issue 8, item 4: the page used to say "Stopped" whatever the DELETE answered.
  await t.test('a refused Stop is shown with its error code, not as stopped', async (t) => {
    // One request per minute: the stream is the first, so the DELETE is refused (429).
    const limited = await startDemo({ port: 0, host: '127.0.0.1', frameDelayMs: 5, env: { LOG_LEVEL: 'silent', RATE_LIMIT_MAX: '1' } })
    t.after(() => limited.close())
    const { page, pageErrors } = await openPage(t, browser, limited)
    await ask(page, '/hang')
    await limited.emulator.waitForRequests(1, 5000)
    await page.waitForSelector('#status:text("Streaming from")', { timeout: 5000 })
    await page.click('#stop')
    assert.equal(await finalState(page), 'error')
    assert.match(await textOf(page, '#status'), /^Stop refused: rate_limited/)
    assert.equal(await page.getAttribute('#error', 'data-code'), 'rate_limited')
    assert.deepEqual(pageErrors, [])
  })
})
