// Send-time stamps (issue 10, the benchmark): each text delta carries the wall-clock time
// its frame was written, so a client on the same machine measures the latency added per token.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { BedrockRuntimeClient, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { formatStamp, readStamps, startEmulator, stampedScenario, wallClockMs } from '../src/emulator/index.js'

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
    const sentAt = wallClockMs()
    const res = await client.send(new ConverseStreamCommand({ modelId: 'bench', messages: [{ role: 'user', content: [{ text: prompt }] }] }))
    assert.ok(res.stream)
    const stamps: Array<{ stamp: number, receivedAt: number }> = []
    let stopReason: string | undefined
    for await (const event of res.stream) {
      const text = event.contentBlockDelta?.delta?.text
      if (text !== undefined) {
        const found = readStamps(text)
        assert.equal(found.length, 1, text)
        stamps.push({ stamp: found[0] ?? 0, receivedAt: wallClockMs() })
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
  const sentAt = wallClockMs()
  const res = await client.send(new ConverseStreamCommand({ modelId: 'bench', messages: [{ role: 'user', content: [{ text: '/stamped 2 0 200' }] }] }))
  const texts: string[] = []
  for await (const event of res.stream ?? []) {
    if (event.contentBlockDelta?.delta?.text !== undefined) texts.push(event.contentBlockDelta.delta.text)
  }
  assert.equal(texts.length, 2)
  assert.ok((readStamps(texts[0] ?? '')[0] ?? 0) - sentAt >= 200)
})

test('send delays: one stamped HTTP/2 write in eight is timed until it leaves the emulator, none over HTTP/1.1; a read empties them', { timeout: 15_000 }, async (t) => {
  const emu = await startEmulator({ frameDelayMs: 0 })
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' }
  const h2 = new BedrockRuntimeClient({ region: 'us-east-1', endpoint: emu.url, credentials }) // the SDK's default: HTTP/2
  const h1 = new BedrockRuntimeClient({ region: 'us-east-1', endpoint: emu.url, credentials, requestHandler: new NodeHttpHandler() })
  t.after(async () => { h1.destroy(); h2.destroy(); await emu.close() })
  const stream = async (client: BedrockRuntimeClient): Promise<number> => {
    const res = await client.send(new ConverseStreamCommand({ modelId: 'bench', messages: [{ role: 'user', content: [{ text: '/stamped 16 1' }] }] }))
    let deltas = 0
    for await (const event of res.stream ?? []) if (event.contentBlockDelta !== undefined) deltas++
    return deltas
  }
  const take = async (): Promise<number[]> => ((await (await fetch(`${emu.url}/send-delays`)).json()) as { ms: number[] }).ms

  assert.equal(await stream(h2), 16)
  const timed = await take()
  assert.equal(timed.length, 2)
  for (const ms of timed) assert.ok(ms >= 0 && ms < 1000, String(ms))
  assert.deepEqual(await take(), [])

  assert.equal(await stream(h1), 16)
  assert.deepEqual(await take(), [])
})
