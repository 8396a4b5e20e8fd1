// The chat page's tool loop and thinking (issues 12 and 13) in a real headless Chromium
// against the demo: the page offers its own get_current_time tool, runs it when the
// emulator calls it, and sends the result back in the next request; thinking sends
// `reasoning` and returns the signed reasoning block unchanged (the emulator verifies the
// signature, as Anthropic does, and answers 400 otherwise). Screenshots of a tool round
// trip with thinking go to test-results/screenshots/ (look at them).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { startDemo } from '../src/demo.js'
import { messageScenario, signReasoning, textScenario } from '../src/emulator/index.js'
import { answerAt, ask, launchBrowser, openPage, seriousViolations, settled, skipBrowser, textOf } from './support/browser.js'
import { eventually } from './support/wait.js'

const SCREENSHOTS = new URL('../test-results/screenshots/', import.meta.url)
const TIME_PROMPT = 'What time is it? Use get_current_time.'

interface ToolResult { toolUseId: string, status: string, content: Array<{ text?: string, json?: Record<string, unknown> }> }
interface Block { text?: string, toolUse?: { toolUseId: string, name: string, input: unknown }, toolResult?: ToolResult, reasoningContent?: unknown }
interface Sent {
  messages: Array<{ role: string, content: Block[] }>
  toolConfig?: { tools: Array<{ toolSpec: { name: string } }> }
  additionalModelRequestFields?: Record<string, unknown>
}
const sent = (request: { body: unknown } | undefined): Sent => request?.body as Sent

test('tools and thinking on the chat page in headless Chromium', { skip: skipBrowser, timeout: 120_000 }, async (t) => {
  const demo = await startDemo({ port: 0, host: '127.0.0.1', frameDelayMs: 5, env: { LOG_LEVEL: 'silent' } })
  t.after(() => demo.close())
  const browser = await launchBrowser(t)
  const { emulator } = demo

  await t.test('a tool round trip: the page runs get_current_time, sends the result for the same toolUseId, and the answer uses it; a reload keeps it', async (t) => {
    emulator.reset()
    const { page, pageErrors } = await openPage(t, browser, demo)
    await ask(page, TIME_PROMPT)
    assert.equal(await settled(page), 'done')
    assert.equal(emulator.requests.length, 2)
    const [first, second] = [sent(emulator.requests[0]), sent(emulator.requests[1])]
    assert.deepEqual(first.toolConfig?.tools.map((tool) => tool.toolSpec.name), ['get_current_time'])
    assert.equal(first.additionalModelRequestFields, undefined, 'thinking is off by default')

    const [question, call, results] = second.messages
    assert.deepEqual(question, { role: 'user', content: [{ text: TIME_PROMPT }] })
    assert.equal(call?.role, 'assistant')
    assert.equal(call?.content[0]?.text, 'I will call get_current_time.')
    const toolUse = call?.content[1]?.toolUse
    assert.ok(toolUse !== undefined)
    assert.equal(toolUse.name, 'get_current_time')
    assert.deepEqual(toolUse.input, {})
    assert.equal(results?.role, 'user')
    assert.equal(results?.content.length, 1)
    const toolResult = results?.content[0]?.toolResult
    assert.ok(toolResult !== undefined)
    assert.equal(toolResult.toolUseId, toolUse.toolUseId)
    assert.equal(toolResult.status, 'success')
    const answered = toolResult.content[0]?.json ?? {}
    assert.equal(answered['timeZone'], await page.evaluate('Intl.DateTimeFormat().resolvedOptions().timeZone'))
    assert.ok(Math.abs(Date.parse(String(answered['iso'])) - Date.now()) < 60_000, `the browser's clock: ${String(answered['iso'])}`)
    assert.equal(second.toolConfig?.tools.length, 1, 'toolConfig goes with every request of the loop')

    // One answer, two rounds: the call with its card (input, result), then the final text.
    assert.equal(await page.locator('.turn.assistant').count(), 1)
    assert.equal(await page.locator(`${answerAt(1)} .round`).count(), 2)
    assert.equal(await textOf(page, `${answerAt(1)} .tool-id`), toolUse.toolUseId)
    assert.deepEqual(JSON.parse(await textOf(page, `${answerAt(1)} .tool-result`)), answered)
    assert.equal(await textOf(page, `${answerAt(1)} .tool-label.result`), 'Ran in this browser:')
    const final = `The tool answered: ${JSON.stringify(answered)}. That is all I needed.`
    assert.equal(await textOf(page, `${answerAt(1)} .round:last-child .answer`), final)

    await page.reload()
    assert.equal(await page.locator(`${answerAt(1)} .round`).count(), 2)
    assert.deepEqual(JSON.parse(await textOf(page, `${answerAt(1)} .tool-result`)), answered)
    assert.equal(await textOf(page, `${answerAt(1)} .round:last-child .answer`), final)
    assert.equal(await page.locator(`${answerAt(1)}`).getAttribute('data-state'), 'done')

    // The next question carries the first one as text: its tool calls are answered.
    await ask(page, 'thanks')
    assert.equal(await settled(page), 'done')
    assert.deepEqual(sent(emulator.requests[2]).messages, [
      { role: 'user', content: [{ text: TIME_PROMPT }] },
      { role: 'assistant', content: [{ text: `I will call get_current_time.\n\n${final}` }] },
      { role: 'user', content: [{ text: 'thanks' }] },
    ])
    assert.deepEqual(pageErrors, [])
  })

  await t.test('an unknown tool and a bad input get toolResult errors; the loop goes on', async (t) => {
    emulator.reset()
    emulator.enqueue(messageScenario([
      { text: 'Two calls.' },
      { toolUse: { toolUseId: 'tooluse_rockets', name: 'launch_rockets', input: '{"count":3}' } },
      { toolUse: { toolUseId: 'tooluse_mars', name: 'get_current_time', input: '{"timeZone":"Mars/Olympus_Mons"}' } },
    ]))
    const { page, pageErrors } = await openPage(t, browser, demo)
    await ask(page, 'do something odd')
    assert.equal(await settled(page), 'done')
    assert.equal(emulator.requests.length, 2)
    const results = sent(emulator.requests[1]).messages[2]?.content.map((b) => b.toolResult)
    assert.deepEqual(results?.map((r) => [r?.toolUseId, r?.status]), [['tooluse_rockets', 'error'], ['tooluse_mars', 'error']])
    assert.match(results?.[0]?.content[0]?.text ?? '', /^Unknown tool "launch_rockets"/)
    assert.match(results?.[1]?.content[0]?.text ?? '', /^Unknown time zone "Mars\/Olympus_Mons"/)
    assert.deepEqual(await page.locator(`${answerAt(1)} .tool-label.result`).allTextContents(), ['Failed in this browser:', 'Failed in this browser:'])
    assert.match(await textOf(page, `${answerAt(1)} .round:last-child .answer`), /^The tool answered: Unknown tool/)
    assert.deepEqual(pageErrors, [])
  })

  await t.test('the loop stops after 4 tool rounds and says so', async (t) => {
    emulator.reset()
    for (let i = 1; i <= 5; i++) {
      emulator.enqueue(messageScenario([{ toolUse: { toolUseId: `tooluse_loop_${i}`, name: 'get_current_time', input: '{"timeZone":"Europe/Paris"}' } }]))
    }
    const { page, pageErrors } = await openPage(t, browser, demo)
    await ask(page, 'keep calling tools')
    assert.equal(await settled(page), 'done')
    assert.equal(emulator.requests.length, 5, 'the first request and 4 with tool results')
    assert.equal(await page.locator(`${answerAt(1)} .tool-result`).count(), 4)
    assert.equal(await page.locator(`${answerAt(1)} .tool`).count(), 5)
    const notice = page.locator(`${answerAt(1)} .notice`)
    assert.match(await notice.innerText(), /^Stopped after 4 tool rounds\./)
    assert.equal(await notice.getAttribute('role'), 'status')
    await page.reload()
    assert.match(await page.locator(`${answerAt(1)} .notice`).innerText(), /^Stopped after 4 tool rounds\./)
    assert.deepEqual(pageErrors, [])
  })

  await t.test('a reload while the round after a tool runs picks that round up; the tool is not run again', async (t) => {
    emulator.reset()
    const LONG = 'Now I know the time, and I say so slowly. '.repeat(6).trim()
    emulator.enqueue(
      messageScenario([{ text: 'Checking.' }, { toolUse: { toolUseId: 'tooluse_reload', name: 'get_current_time', input: '{"timeZone":"Asia/Tokyo"}' } }]),
      textScenario(LONG, { chunkChars: 6, frameDelayMs: 40 })
    )
    const { page, streamRequests, pageErrors } = await openPage(t, browser, demo)
    await ask(page, 'what time is it in Tokyo?')
    await eventually(async () => (await textOf(page, `${answerAt(1)} .round:last-child .answer`)).length > 20, 5000, 'the second round streaming')
    const result = await textOf(page, `${answerAt(1)} .tool-result`)
    assert.equal(JSON.parse(result).timeZone, 'Asia/Tokyo')
    await page.reload()
    assert.equal(await settled(page), 'done')
    assert.equal(await page.locator(`${answerAt(1)} .round`).count(), 2)
    assert.equal(await textOf(page, `${answerAt(1)} .tool-result`), result, 'the result as it was sent, not a new run')
    assert.equal(await textOf(page, `${answerAt(1)} .round:last-child .answer`), LONG)
    assert.equal(emulator.requests.length, 2)
    assert.deepEqual(streamRequests.map((r) => r.method), ['POST', 'POST', 'GET'], 'the second round followed by id after the reload')
    assert.deepEqual(pageErrors, [])
  })

  await t.test('Think sends reasoning; the reasoning shows apart, signed, folded once the answer starts', async (t) => {
    emulator.reset()
    const { page, pageErrors } = await openPage(t, browser, demo)
    await page.locator('#think').check()
    await ask(page, 'why is the sky blue?')
    assert.equal(await settled(page), 'done')
    assert.deepEqual(sent(emulator.requests[0]).additionalModelRequestFields, { thinking: { type: 'enabled', budget_tokens: 1024 } })
    const reasoning = page.locator(`${answerAt(1)} .reasoning`)
    assert.equal(await reasoning.isVisible(), true)
    assert.equal(await reasoning.getAttribute('open'), null)
    assert.match(await textOf(page, `${answerAt(1)} .reasoning-text`), /^The user asked: "why is the sky blue\?"/)
    assert.equal(await textOf(page, `${answerAt(1)} .reasoning .note`), 'Signed by the model.')
    assert.doesNotMatch(await textOf(page, `${answerAt(1)} .answer`), /The user asked/, 'reasoning stays out of the answer')
    await page.reload()
    assert.equal(await page.locator('#think').isChecked(), true, 'the toggle survives a reload')
    assert.match(await textOf(page, `${answerAt(1)} .reasoning-text`), /^The user asked/)
    assert.deepEqual(pageErrors, [])
  })

  await t.test('thinking and a tool: the signed reasoning block goes back first and unchanged', async (t) => {
    emulator.reset()
    mkdirSync(SCREENSHOTS, { recursive: true })
    const { page, pageErrors } = await openPage(t, browser, demo, { viewport: { width: 1280, height: 900 } })
    await page.locator('#think').check()
    await ask(page, TIME_PROMPT)
    assert.equal(await settled(page), 'done')
    assert.equal(emulator.requests.length, 2)
    const call = sent(emulator.requests[1]).messages[1]
    const text = `The user asked: "${TIME_PROMPT}". I will look at the tools and documents I have, then answer.`
    assert.deepEqual(call?.content[0], { reasoningContent: { reasoningText: { text, signature: signReasoning(text) } } })
    assert.deepEqual(call?.content.slice(1).map((b) => Object.keys(b)[0]), ['text', 'toolUse'])
    assert.match(await textOf(page, `${answerAt(1)} .round:last-child .answer`), /^The tool answered: /, 'the emulator accepted the signature')
    assert.equal(await page.locator(`${answerAt(1)} .reasoning`).count(), 2, 'each round thinks, apart')

    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme })
      await page.setViewportSize({ width: 1280, height: 900 })
      assert.deepEqual(await seriousViolations(page), [], colorScheme)
      await page.screenshot({ path: new URL(`tools-desktop-${colorScheme}.png`, SCREENSHOTS).pathname, fullPage: true })
      await page.setViewportSize({ width: 390, height: 844 })
      assert.deepEqual(await seriousViolations(page), [], `${colorScheme}, 390 px`)
      const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth')
      assert.ok(overflow <= 0, `no horizontal scrolling at 390 px (${overflow} px too wide)`)
      await page.screenshot({ path: new URL(`tools-phone-${colorScheme}.png`, SCREENSHOTS).pathname, fullPage: true })
    }
    assert.deepEqual(pageErrors, [])
  })

  await t.test('thinking and a tool with redacted reasoning: the encrypted bytes go back unchanged', async (t) => {
    emulator.reset()
    const bytes = Buffer.from('opaque encrypted reasoning \u0000\u00ff bytes')
    emulator.enqueue(messageScenario([
      { redactedReasoning: bytes },
      { toolUse: { toolUseId: 'tooluse_redacted', name: 'get_current_time', input: '{}' } },
    ]))
    const { page, pageErrors } = await openPage(t, browser, demo)
    await page.locator('#think').check()
    await ask(page, 'what time is it?')
    assert.equal(await settled(page), 'done')
    assert.equal(emulator.requests.length, 2)
    assert.deepEqual(sent(emulator.requests[1]).messages[1]?.content[0], { reasoningContent: { redactedContent: bytes.toString('base64') } })
    assert.equal(await textOf(page, `${answerAt(1)} .round:first-child .reasoning .note`), `Redacted by the provider: ${bytes.length} encrypted bytes, not shown.`)
    assert.match(await textOf(page, `${answerAt(1)} .round:last-child .answer`), /^The tool answered: /)
    assert.deepEqual(pageErrors, [])
  })

  await t.test('a server that refuses thinking and client tools: the page says so and offers to turn each off', async (t) => {
    const strict = await startDemo({ port: 0, host: '127.0.0.1', frameDelayMs: 5, env: { LOG_LEVEL: 'silent', REASONING_MAX_BUDGET_TOKENS: '0', MAX_TOOLS: '0' } })
    t.after(() => strict.close())
    const { page, pageErrors } = await openPage(t, browser, strict)
    await page.locator('#think').check()
    await ask(page, 'think hard')
    const offered: string[] = []
    for (let i = 0; i < 2; i++) {
      assert.equal(await settled(page), 'error')
      const notice = page.locator(`${answerAt(1)} .notice`)
      assert.equal(await notice.getAttribute('data-code'), 'option_not_allowed')
      const text = await notice.innerText()
      assert.match(text, /^Option not allowed\. (reasoning \(extended thinking\)|toolConfig \(client tools\)) is not allowed on this server\./)
      const button = notice.getByRole('button')
      const name = await button.innerText()
      assert.equal(name, text.includes('reasoning') ? 'Turn thinking off and retry' : 'Turn tools off and retry')
      offered.push(name)
      await button.click()
    }
    assert.deepEqual(offered.sort(), ['Turn thinking off and retry', 'Turn tools off and retry'])
    assert.equal(await settled(page), 'done')
    assert.equal(await page.locator('#think').isChecked(), false)
    assert.equal(await page.locator('#tools').isChecked(), false)
    assert.equal(strict.emulator.requests.length, 1, 'refusals never reach Bedrock')
    const request = sent(strict.emulator.requests[0])
    assert.equal(request.additionalModelRequestFields, undefined)
    assert.equal(request.toolConfig, undefined)
    assert.equal(await page.locator('.notice:not([hidden])').count(), 0)
    assert.deepEqual(pageErrors, [])
  })
})
