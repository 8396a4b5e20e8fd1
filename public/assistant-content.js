// One answer's events -> the assistant turn to send back, in Bedrock's Converse shapes
// (README "Request", Tools): reasoning with its signature exactly as received (or the
// redacted bytes as base64), text, and toolUse with the input parsed from the joined
// tool_input fragments, in `index` order. The page's mirror of src/bedrock/answer.ts.

export class AssistantContent {
  constructor (blocks = []) {
    /** index -> { text?, reasoning?, signature?, redacted?, tool? } */
    this.blocks = new Map(blocks)
  }

  add ({ type, data }) {
    if (type === 'text') {
      const block = this.#block(data.index)
      block.text = (block.text ?? '') + data.text
    } else if (type === 'reasoning') {
      const block = this.#block(data.index)
      if (typeof data.text === 'string') block.reasoning = (block.reasoning ?? '') + data.text
      else if (typeof data.signature === 'string') block.signature = data.signature
      else if (typeof data.redacted === 'string') block.redacted = data.redacted
    } else if (type === 'tool_use') {
      this.#block(data.index).tool = { toolUseId: data.toolUseId, name: data.name, input: '', ...(data.type ? { type: data.type } : {}) }
    } else if (type === 'tool_input') {
      const block = this.#block(data.index)
      if (block.tool !== undefined) block.tool.input += data.input
    }
  }

  /** The content blocks for the next request's assistant turn. */
  content () {
    const content = []
    for (const [, block] of [...this.blocks].sort(([a], [b]) => a - b)) {
      if (block.reasoning !== undefined) {
        content.push({ reasoningContent: { reasoningText: { text: block.reasoning, ...(block.signature !== undefined ? { signature: block.signature } : {}) } } })
      }
      if (block.redacted !== undefined) content.push({ reasoningContent: { redactedContent: block.redacted } })
      if (block.text !== undefined && block.text !== '') content.push({ text: block.text })
      // A server tool (`type` set) ran on Bedrock's side: nothing for this page to answer.
      if (block.tool !== undefined && block.tool.type === undefined) {
        content.push({ toolUse: { toolUseId: block.tool.toolUseId, name: block.tool.name, input: parseInput(block.tool.input) } })
      }
    }
    return content
  }

  /** The tools the model asked this page to run, input parsed. */
  toolCalls () {
    return this.content().flatMap((b) => b.toolUse ? [b.toolUse] : [])
  }

  get text () {
    return [...this.blocks.values()].map((b) => b.text ?? '').join('')
  }

  /** For sessionStorage. */
  toJSON () {
    return [...this.blocks]
  }

  #block (index) {
    let block = this.blocks.get(index)
    if (block === undefined) {
      block = {}
      this.blocks.set(index, block)
    }
    return block
  }
}

// Bedrock wants a JSON object; text that is not one (a model that broke off) goes as a string field.
function parseInput (json) {
  try {
    const value = JSON.parse(json === '' ? '{}' : json)
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : { value }
  } catch {
    return { unparsed: json }
  }
}
