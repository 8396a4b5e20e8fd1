// Send-time stamps (issue 10, the benchmark): each text delta carries the wall-clock time
// its frame was written, so a client on the same machine measures the latency added per token.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { BedrockRuntimeClient, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime'
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
