// What a client of the stream does with its events to go on with a conversation (issue
// 12): rebuild the assistant's content blocks (reasoning with its signature, text, tool
// calls with their joined input) to send back in the next request's messages. Plus a JSON
// POST helper and the body Bedrock received.
import type { SseEvent } from '../helper.js'

type Block = Record<string, unknown>

/** The assistant message's content blocks, in index order, as Bedrock wants them back. */
export function assistantContentOf (events: SseEvent[]): Block[] {
  const blocks = new Map<number, { text?: string, reasoning?: string, signature?: string, redacted?: string, tool?: { toolUseId: string, name: string, input: string } }>()
  for (const { event, data } of events) {
    const d = data as Record<string, unknown> & { index: number }
    if (typeof d?.index !== 'number') continue
    const block = blocks.get(d.index) ?? {}
    blocks.set(d.index, block)
    if (event === 'text') block.text = (block.text ?? '') + String(d['text'])
    else if (event === 'reasoning') {
      if (typeof d['text'] === 'string') block.reasoning = (block.reasoning ?? '') + d['text']
      if (typeof d['signature'] === 'string') block.signature = d['signature']
      if (typeof d['redacted'] === 'string') block.redacted = d['redacted']
    } else if (event === 'tool_use') block.tool = { toolUseId: String(d['toolUseId']), name: String(d['name']), input: '' }
    else if (event === 'tool_input' && block.tool !== undefined) block.tool.input += String(d['input'])
  }
  return [...blocks.entries()].sort(([a], [b]) => a - b).flatMap(([, b]): Block[] => {
    if (b.reasoning !== undefined) return [{ reasoningContent: { reasoningText: { text: b.reasoning, ...(b.signature !== undefined ? { signature: b.signature } : {}) } } }]
    if (b.redacted !== undefined) return [{ reasoningContent: { redactedContent: b.redacted } }]
    if (b.tool !== undefined) return [{ toolUse: { toolUseId: b.tool.toolUseId, name: b.tool.name, input: JSON.parse(b.tool.input === '' ? '{}' : b.tool.input) as unknown } }]
    return b.text !== undefined ? [{ text: b.text }] : []
  })
}

export function dataOf (events: SseEvent[], name: string): Record<string, unknown> | undefined {
  return events.find(e => e.event === name)?.data as Record<string, unknown> | undefined
}

export async function postJson (url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number, json: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
  return { status: res.status, json: await res.json() as Record<string, unknown> }
}

/** The error code and message of a refused request. */
export function errorIn (json: Record<string, unknown>): { code: string, message: string } {
  return json['error'] as { code: string, message: string }
}

/** The Converse input Bedrock (the emulator) received for request `i` (0-based). */
export function upstreamBody (requests: ReadonlyArray<{ body: unknown }>, i = 0): Record<string, unknown> {
  return requests[i]?.body as Record<string, unknown>
}
