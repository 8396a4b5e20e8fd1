// Relay events -> one whole answer, for the surfaces that answer in one JSON document
// (OpenAI's non-streaming chat completion). The same upstream call, relay and accounting
// as a stream; only the end differs: the events are gathered instead of framed. Pure.
import type { ErrorData, RelayEvent, UsageData } from '../events.js'

export type AnswerBlock =
  | { text: string }
  | { reasoningContent: { reasoningText: { text: string, signature?: string } } }
  | { reasoningContent: { redactedContent: string } }
  | { toolUse: { toolUseId: string, name: string, input: string } }

export class Answer {
  readonly blocks: AnswerBlock[] = []
  readonly #byIndex = new Map<number, AnswerBlock>()
  stopReason: string | undefined
  usage: UsageData | undefined
  error: ErrorData | undefined

  /** The relay's `emit`. */
  readonly add = (event: RelayEvent): void => {
    switch (event.type) {
      case 'text': {
        const block = this.#block(event.data.index, () => ({ text: '' }))
        if ('text' in block) block.text += event.data.text
        return
      }
      case 'reasoning': {
        const { data } = event
        if ('redacted' in data) {
          this.#add(data.index, { reasoningContent: { redactedContent: data.redacted } })
          return
        }
        const block = this.#block(data.index, () => ({ reasoningContent: { reasoningText: { text: '' } } }))
        if (!('reasoningContent' in block) || !('reasoningText' in block.reasoningContent)) return
        if ('text' in data) block.reasoningContent.reasoningText.text += data.text
        else block.reasoningContent.reasoningText.signature = data.signature
        return
      }
      case 'tool_use':
        this.#add(event.data.index, { toolUse: { toolUseId: event.data.toolUseId, name: event.data.name, input: '' } })
        return
      case 'tool_input': {
        const block = this.#byIndex.get(event.data.index)
        if (block !== undefined && 'toolUse' in block) block.toolUse.input += event.data.input
        return
      }
      case 'stop': this.stopReason = event.data.stopReason; return
      case 'usage': this.usage = event.data; return
      case 'error': this.error = event.data
    }
  }

  /** The text blocks, joined. */
  get text (): string {
    return this.blocks.map(b => 'text' in b ? b.text : '').join('')
  }

  /** The reasoning text, joined; undefined when the model gave none. */
  get reasoningText (): string | undefined {
    const parts = this.blocks.flatMap(b => 'reasoningContent' in b && 'reasoningText' in b.reasoningContent ? [b.reasoningContent.reasoningText.text] : [])
    return parts.length > 0 ? parts.join('') : undefined
  }

  #block (index: number, create: () => AnswerBlock): AnswerBlock {
    return this.#byIndex.get(index) ?? this.#add(index, create())
  }

  #add (index: number, block: AnswerBlock): AnswerBlock {
    this.#byIndex.set(index, block)
    this.blocks.push(block)
    return block
  }
}
