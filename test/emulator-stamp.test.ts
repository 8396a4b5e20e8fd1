// Send-time stamps (issue 10, the benchmark): each text delta carries the time
// its frame was written, so a client on the same machine measures the latency added per token.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { BedrockRuntimeClient, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { formatStamp, readStamps, startEmulator, stampedScenario, stampClockMs } from '../src/emulator/index.js'

test('formatStamp and readStamps round-trip, several stamps in one text', () => {
  const ms = 1796210700554.125
  assert.equal(formatStamp(ms), '<t:1796210700554.125>')
  assert.deepEqual(readStamps(`${formatStamp(ms)}${formatStamp(ms + 1.5)}`), [ms, ms + 1.5])
  assert.deepEqual(readStamps('no stamp here'), [])
})

test('stamped stream: one stamp per delta, increasing, each between the request and its arrival', { timeout: 15_000 }, async (t) => {
  const emu = await startEmulator({ frameDelayMs: 0 })
  const client = new BedrockRuntimeClient({ region: 'us-east-1', endpoint: emu.url, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } })
  t.after(async () => { client.destroy(); await emu.close() })

  // Queued scenario, then the same through the responder's slash command.
  emu.enqueue(stampedScenario(4, { frameDelayMs: 5 }))
  for (const prompt of ['queued', '/stamped 4 5']) {
    const sentAt = stampClockMs()
    const res = await client.send(new ConverseStreamCommand({ modelId: 'bench', messages: [{ role: 'user', content: [{ text: prompt }] }] }))
    assert.ok(res.stream)
    const stamps: Array<{ stamp: number, receivedAt: number }> = []
    let stopReason: string | undefined
    for await (const event of res.stream) {
      const text = event.contentBlockDelta?.delta?.text
      if (text !== undefined) {
        const found = readStamps(text)
        assert.equal(found.length, 1, text)
        stamps.push({ stamp: found[0] ?? 0, receivedAt: stampClockMs() })
      }
      stopReason ??= event.messageStop?.stopReason
    }
    assert.equal(stopReason, 'end_turn')
    assert.equal(stamps.length, 4)
    let previous = sentAt
    for (const { stamp, receivedAt } of stamps) {
      assert.ok(stamp >= previous, `${stamp} after ${previous}`)
      assert.ok(stamp <= receivedAt, `sent ${stamp} before received ${receivedAt}`)
      previous = stamp
    }
  }
})

test('/stamped with a slow first token: the first delta comes after the extra delay', { timeout: 15_000 }, async (t) => {
  const emu = await startEmulator({ frameDelayMs: 0 })
  const client = new BedrockRuntimeClient({ region: 'us-east-1', endpoint: emu.url, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } })
  t.after(async () => { client.destroy(); await emu.close() })
  const sentAt = stampClockMs()
  const res = await client.send(new ConverseStreamCommand({ modelId: 'bench', messages: [{ role: 'user', content: [{ text: '/stamped 2 0 200' }] }] }))
  const texts: string[] = []
  for await (const event of res.stream ?? []) {
    if (event.contentBlockDelta?.delta?.text !== undefined) texts.push(event.contentBlockDelta.delta.text)
  }
  assert.equal(texts.length, 2)
  assert.ok((readStamps(texts[0] ?? '')[0] ?? 0) - sentAt >= 200)
})

test('send log: every stamped token written over HTTP/2 is logged with how long it waited in the emulator, none over HTTP/1.1', { timeout: 15_000 }, async (t) => {
  const emu = await startEmulator({ frameDelayMs: 0 })
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' }
  const h2 = new BedrockRuntimeClient({ region: 'us-east-1', endpoint: emu.url, credentials }) // the SDK's default: HTTP/2
  const h1 = new BedrockRuntimeClient({ region: 'us-east-1', endpoint: emu.url, credentials, requestHandler: new NodeHttpHandler() })
  t.after(async () => { h1.destroy(); h2.destroy(); await emu.close() })
  const stream = async (client: BedrockRuntimeClient): Promise<Array<{ stamp: number, receivedAt: number }>> => {
    const res = await client.send(new ConverseStreamCommand({ modelId: 'bench', messages: [{ role: 'user', content: [{ text: '/stamped 6 1' }] }] }))
    const tokens: Array<{ stamp: number, receivedAt: number }> = []
    for await (const event of res.stream ?? []) {
      const text = event.contentBlockDelta?.delta?.text
      if (text !== undefined) tokens.push({ stamp: readStamps(text)[0] ?? Number.NaN, receivedAt: stampClockMs() })
    }
    return tokens
  }
  const sent = async (since: number): Promise<Map<number, number>> => {
    const { pairs } = (await (await fetch(`${emu.url}/sent?since=${since}`)).json()) as { pairs: number[] }
    const waits = new Map<number, number>()
    for (let i = 0; i < pairs.length; i += 2) waits.set(pairs[i] ?? 0, pairs[i + 1] ?? 0)
    return waits
  }

  const before = stampClockMs()
  const overH2 = await stream(h2)
  assert.equal(overH2.length, 6)
  const waits = await sent(before)
  assert.equal(waits.size, 6)
  for (const { stamp, receivedAt } of overH2) {
    const wait = waits.get(stamp) // keyed by the stamp exactly as the client reads it
    assert.ok(wait !== undefined && wait >= 0 && stamp + wait <= receivedAt, `${stamp}: waited ${String(wait)}, received ${receivedAt}`)
  }
  // `since` leaves out what was stamped before it.
  assert.equal((await sent(stampClockMs())).size, 0)

  const afterH2 = stampClockMs()
  assert.equal((await stream(h1)).length, 6)
  assert.equal((await sent(afterH2)).size, 0)
})
