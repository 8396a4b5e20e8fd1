// The chat page (public/) in a real headless Chromium (Debian's, driven by playwright-core)
// against the demo: the real proxy and the emulator on 127.0.0.1. One browser per test
// file, a fresh context (cookies, sessionStorage) per test.
import type { TestContext } from 'node:test'
import { existsSync } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import { createRequire } from 'node:module'
import type { Socket } from 'node:net'
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core'
import type { Demo } from '../../src/demo.js'

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js')
export const CHROMIUM = '/usr/bin/chromium'
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-quic']

// Longer than EventSource's default reconnection time (about 3 s in Chromium). Waited out
// on purpose: proving that no reconnect comes means watching a window longer than
// EventSource's reconnect delay; an absence cannot be awaited.
export const RECONNECT_WINDOW_MS = 4000

const missing = !existsSync(CHROMIUM)
// CI installs Chromium, so there a missing binary is a failure; elsewhere the file skips.
export const skipBrowser = missing && process.env['CI'] === undefined
  ? `${CHROMIUM} not found: install it (apt-get install chromium) to run the browser tests`
  : false

export async function launchBrowser (t: TestContext): Promise<Browser> {
  if (missing) throw new Error(`${CHROMIUM} not found; CI must install the chromium package`)
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
  t.after(() => browser.close())
  return browser
}

export interface PageSession {
  page: Page
  /** Every stream request the page made (POST /v1/converse-stream, GET /v1/streams/...), with its headers. */
  streamRequests: Array<{ method: string, url: string, headers: Record<string, string> }>
  /** Every /v1 request the page made, as "METHOD /path". */
  v1Requests: string[]
  pageErrors: string[]
}

export async function openPage (t: TestContext, browser: Browser, demo: Demo, options: BrowserContextOptions = {}): Promise<PageSession> {
  const context = await browser.newContext(options)
  context.setDefaultTimeout(10_000)
  t.after(() => context.close())
  const page = await context.newPage()
  const session: PageSession = { page, streamRequests: [], v1Requests: [], pageErrors: [] }
  page.on('request', (req) => {
    const url = new URL(req.url())
    if (url.pathname.startsWith('/v1/')) session.v1Requests.push(`${req.method()} ${url.pathname}`)
    if (url.pathname === '/v1/converse-stream' || (url.pathname.startsWith('/v1/streams/') && req.method() === 'GET')) {
      session.streamRequests.push({ method: req.method(), url: req.url(), headers: req.headers() })
    }
  })
  page.on('pageerror', (err) => session.pageErrors.push(err.message))
  await page.goto(`${demo.url}/`)
  return session
}

/** Types `prompt` and sends it with Enter, as a user would. */
export async function ask (page: Page, prompt: string): Promise<void> {
  await page.fill('#prompt', prompt)
  await page.press('#prompt', 'Enter')
}

/** The n-th answer (1-based), or the last: the log alternates question and answer. */
export function answerAt (n?: number): string {
  return n === undefined ? '.turn.assistant:last-child' : `.turn.assistant:nth-child(${2 * n})`
}

/** Waits until the last answer leaves `streaming`; returns its state (done, error, stopped). */
export async function settled (page: Page, timeoutMs = 15_000): Promise<string | null> {
  const last = page.locator('.turn.assistant').last()
  await last.and(page.locator(':not([data-state="streaming"])')).waitFor({ timeout: timeoutMs })
  return last.getAttribute('data-state')
}

export async function textOf (page: Page, selector: string): Promise<string> {
  return page.locator(selector).last().evaluate((el) => el.textContent ?? '')
}

/** Records the server-side socket of every POST /v1/converse-stream, so a test can cut it as a network would. */
export function streamSockets (demo: Demo): Socket[] {
  const sockets: Socket[] = []
  demo.app.server.on('request', (req: IncomingMessage) => {
    if (req.method === 'POST' && req.url === '/v1/converse-stream') sockets.push(req.socket)
  })
  return sockets
}

/** Spends the anonymous rate limit of 127.0.0.1 from the test itself, so the page's next /v1 request is refused. */
export async function exhaustRateLimit (demo: Demo): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const res = await fetch(`${demo.url}/v1/streams/000000000000000000000000`)
    await res.body?.cancel()
    if (res.status === 429) return
  }
  throw new Error('the rate limit never answered 429')
}

/** axe-core's serious and critical findings on the page as it is now. */
export async function seriousViolations (page: Page): Promise<unknown[]> {
  await page.addScriptTag({ path: AXE })
  // A string: the test files are compiled without the DOM library.
  return page.evaluate(`axe.run(document).then(({ violations }) => violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, nodes: v.nodes.map((n) => [n.target, n.failureSummary]) })))`)
}
