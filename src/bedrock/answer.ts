// Relay events -> one whole answer, for the surfaces that answer in one JSON document
// (POST /v1/converse, OpenAI's chat completion without `stream`). The same upstream
// ConverseStream call, relay, timeouts and accounting as a stream; only the end differs:
// the events are gathered instead of framed. The content comes out in the shape of
// Bedrock's Converse API (a cited answer as one citationsContent block, tool input as a
// parsed JSON document), so a client can send it back in the next turn as it is. Pure.
import type { ErrorData, RelayEvent, UsageData } from '../events.js'

/** One content block as it streams in (its deltas share a contentBlockIndex). */
interface BlockState {
  text?: string
  citations?: unknown[]
  reasoning?: string
  signature?: string
  redacted?: string
  tool?: { toolUseId: string, name: string, input: string }
}

export interface ToolCall { toolUseId: string, name: string, input: string }

export class Answer {
  readonly #blocks = new Map<number, BlockState>()
  stopReason: string | undefined
  usage: UsageData | undefined
  error: ErrorData | undefined

  /** The relay's `emit`. */
  readonly add = (event: RelayEvent): void => {
    switch (event.type) {
      case 'text': {
        const block = this.#block(event.data.index)
        block.text = (block.text ?? '') + event.data.text
        return
      }
      case 'citation': {
        const { index: _index, ...citation } = event.data
        ;(this.#block(event.data.index).citations ??= []).push(citation)
        return
      }
      case 'reasoning': {
        const { data } = event
        const block = this.#block(data.index)
        if ('text' in data) block.reasoning = (block.reasoning ?? '') + data.text
        else if ('signature' in data) block.signature = data.signature
        else block.redacted = data.redacted
        return
      }
      case 'tool_use':
        this.#block(event.data.index).tool = { toolUseId: event.data.toolUseId, name: event.data.name, input: '' }
        return
      case 'tool_input': {
        const block = this.#block(event.data.index)
        block.tool ??= { toolUseId: '', name: '', input: '' }
        block.tool.input += event.data.input
        return
      }
      case 'stop': this.stopReason = event.data.stopReason; return
      case 'usage': this.usage = event.data; return
      case 'error': this.error = event.data
    }
  }

  /** The content blocks, in order, in the Converse API's shape. */
  content (): Array<Record<string, unknown>> {
    const content: Array<Record<string, unknown>> = []
    for (const index of [...this.#blocks.keys()].sort((a, b) => a - b)) {
      const block = this.#blocks.get(index) as BlockState
      if (block.reasoning !== undefined) {
        content.push({ reasoningContent: { reasoningText: { text: block.reasoning, ...(block.signature !== undefined ? { signature: block.signature } : {}) } } })
      }
      if (block.redacted !== undefined) content.push({ reasoningContent: { redactedContent: block.redacted } })
      if (block.citations !== undefined) content.push({ citationsContent: { content: [{ text: block.text ?? '' }], citations: block.citations } })
      else if (block.text !== undefined) content.push({ text: block.text })
      if (block.tool !== undefined) content.push({ toolUse: { toolUseId: block.tool.toolUseId, name: block.tool.name, input: parseInput(block.tool.input) } })
    }
    return content
  }

  /** The text of the answer (cited text included), joined. */
  get text (): string {
    let text = ''
    for (const block of this.#blocks.values()) text += block.text ?? ''
    return text
  }

  /** The reasoning text, joined; undefined when the model gave none. */
  get reasoningText (): string | undefined {
    const parts = [...this.#blocks.values()].flatMap(b => b.reasoning !== undefined ? [b.reasoning] : [])
    return parts.length > 0 ? parts.join('') : undefined
  }

  /** The tools the model called, their input as the JSON text it streamed. */
  get toolCalls (): ToolCall[] {
    return [...this.#blocks.values()].flatMap(b => b.tool !== undefined ? [b.tool] : [])
  }

  #block (index: number): BlockState {
    let block = this.#blocks.get(index)
    if (block === undefined) {
      block = {}
      this.#blocks.set(index, block)
    }
    return block
  }
}

/** Converse returns tool input as a JSON document; a stream sends it as JSON text in pieces. */
function parseInput (input: string): unknown {
  try {
    return JSON.parse(input === '' ? '{}' : input)
  } catch {
    return input
  }
}
