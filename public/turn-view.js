// The DOM of one exchange: the user's message, and the answer with its reasoning (apart,
// collapsible), tool cards, notice (error, stop) and the line of usage under it. Model
// text only ever goes into text nodes (never innerHTML), so an answer cannot inject markup.
import { describeError, formatMs } from './error-text.js'

export function el (tag, className, text) {
  const node = document.createElement(tag)
  if (className) node.className = className
  if (text !== undefined) node.textContent = text
  return node
}

export function userTurn (text) {
  const item = el('li', 'turn user')
  item.append(el('h2', 'visually-hidden', 'You said:'), el('div', 'bubble', text))
  return item
}

export class AnswerView {
  constructor () {
    this.node = el('li', 'turn assistant')
    this.node.dataset.testid = 'answer'
    this.reasoning = el('details', 'reasoning')
    this.reasoning.hidden = true
    this.reasoningText = el('div', 'reasoning-text')
    this.reasoningNote = el('p', 'note')
    this.reasoning.append(el('summary', '', 'Reasoning'), this.reasoningText, this.reasoningNote)
    // Announced once complete: aria-busy holds the live region back while tokens arrive.
    this.answer = el('div', 'answer')
    this.answer.setAttribute('aria-live', 'polite')
    this.sources = el('section', 'sources')
    this.sources.hidden = true
    this.tools = el('div', 'tools')
    this.notice = el('div', 'notice')
    this.notice.hidden = true
    this.meta = el('p', 'meta')
    this.node.append(el('h2', 'visually-hidden', 'Answer:'), this.reasoning, this.answer, this.sources, this.tools, this.notice, this.meta)
    this.reset()
  }

  reset () {
    this.blocks = new Map()
    this.toolCards = new Map()
    this.answer.replaceChildren()
    this.reasoning.hidden = true
    this.reasoningText.replaceChildren()
    this.reasoningNote.textContent = ''
    this.tools.replaceChildren()
    this.sources.hidden = true
    this.sources.replaceChildren()
    this.clearNotice()
    this.meta.replaceChildren()
    this.setState('streaming')
  }

  setState (state) {
    this.node.dataset.state = state
    this.answer.setAttribute('aria-busy', String(state === 'streaming'))
  }

  get state () { return this.node.dataset.state }

  text ({ index, text }) {
    let block = this.blocks.get(index)
    if (block === undefined) {
      block = el('span', 'block')
      this.blocks.set(index, block)
      this.answer.append(block)
    }
    block.append(text) // a text node: markup in `text` stays text
  }

  reasoningDelta (data) {
    if (this.reasoning.hidden) {
      this.reasoning.hidden = false
      this.reasoning.open = true // open while it streams; folded away once the answer starts
    }
    if (typeof data.text === 'string') this.reasoningText.append(data.text)
    else if (typeof data.signature === 'string') this.reasoningNote.textContent = 'Signed by the model.'
    else if (typeof data.redacted === 'string') {
      const bytes = Math.floor(data.redacted.length * 3 / 4) - (data.redacted.match(/=*$/)[0].length)
      this.reasoningNote.textContent = `Redacted by the provider: ${bytes} encrypted bytes, not shown.`
    }
  }

  toolUse ({ index, toolUseId, name, type }) {
    const card = el('article', 'tool')
    if (type) card.dataset.type = type // server_tool_use: Bedrock runs it itself
    const head = el('header', 'tool-head')
    head.append(el('h3', 'tool-name', name), el('span', 'tool-id', toolUseId))
    const input = el('pre', 'tool-input')
    card.append(head, input)
    this.toolCards.set(index, { card, input, json: '' })
    this.tools.append(card)
  }

  toolInput ({ index, input }) {
    const tool = this.toolCards.get(index)
    if (tool === undefined) return
    tool.json += input
    tool.input.textContent = tool.json
  }

  blockStop ({ index }) {
    const tool = this.toolCards.get(index)
    if (tool === undefined) return
    try {
      tool.input.textContent = JSON.stringify(JSON.parse(tool.json || '{}'), null, 2)
      tool.card.dataset.parsed = 'true'
    } catch {
      tool.card.dataset.parsed = 'false' // shown as received
    }
  }

  /** A source the answer is grounded on: listed under the answer, with the quoted text. */
  citation ({ title, source, sourceContent }) {
    if (this.sources.hidden) {
      this.sources.hidden = false
      this.sources.replaceChildren(el('h3', 'sources-title', 'Sources'), el('ol', 'sources-list'))
    }
    const item = el('li', 'source')
    item.append(el('span', 'source-title', title ?? source ?? 'Document'))
    const quote = (sourceContent ?? []).map((c) => c.text).join(' ')
    if (quote !== '') item.append(el('q', 'source-quote', quote))
    this.sources.lastChild.append(item)
  }

  delta ({ index, kind, value }) {
    this.tools.append(el('pre', 'tool delta', `block ${index}, ${kind}: ${JSON.stringify(value, null, 2)}`))
  }

  foldReasoning () {
    if (!this.reasoning.hidden) this.reasoning.open = false
  }

  /** The line under the answer: model, time to first token, tokens (estimates marked), stop reason. */
  showMeta ({ model, firstTokenMs, usage, stopReason }) {
    const parts = []
    if (model) parts.push(el('span', 'model', model))
    if (firstTokenMs !== undefined) parts.push(el('span', 'ttft', `first token ${formatMs(firstTokenMs)}`))
    if (usage) {
      const tokens = el('span', 'tokens', `${usage.partial ? '≈ ' : ''}${usage.inputTokens} in · ${usage.outputTokens} out`)
      if (usage.partial) {
        tokens.dataset.partial = 'true'
        tokens.append(el('span', 'estimate', ' (estimate: the model’s own count never came)'))
      }
      parts.push(tokens)
      if (usage.cacheReadInputTokens) parts.push(el('span', '', `${usage.cacheReadInputTokens} from cache`))
      if (usage.latencyMs !== undefined) parts.push(el('span', 'latency', `Bedrock ${formatMs(usage.latencyMs)}`))
    }
    if (stopReason && stopReason !== 'end_turn') parts.push(el('span', 'stop-reason', stopReason === 'max_tokens' ? 'cut at the token limit' : `stop: ${stopReason}`))
    this.meta.replaceChildren(...parts)
  }

  /** An error or a stop, said once, here; `actions` are buttons to append. */
  showNotice (kind, { title, message, code }, actions = []) {
    this.notice.className = `notice ${kind}`
    this.notice.hidden = false
    this.notice.setAttribute('role', kind === 'error' ? 'alert' : 'status')
    if (code) this.notice.dataset.code = code
    else delete this.notice.dataset.code
    const text = el('p', 'notice-text')
    text.append(el('strong', '', title))
    if (message) text.append(` ${message}`)
    if (code) text.append(' ', el('code', '', code))
    const buttons = el('div', 'notice-actions')
    buttons.append(...actions)
    this.notice.replaceChildren(text, ...(actions.length > 0 ? [buttons] : []))
  }

  showError (error, actions) {
    const { title, hint } = describeError(error)
    const message = [error.message, hint].filter(Boolean).join(' ')
    this.showNotice('error', { title: `${title}.`, message, code: error.code }, actions)
  }

  clearNotice () {
    this.notice.hidden = true
    this.notice.replaceChildren()
    delete this.notice.dataset.code
  }

  /** Everything shown, for sessionStorage (a reload rebuilds finished answers from it). */
  snapshot () {
    return {
      text: this.answer.textContent,
      reasoning: this.reasoning.hidden ? undefined : this.reasoningText.textContent,
      reasoningNote: this.reasoningNote.textContent,
      tools: [...this.toolCards.values()].map(({ card, input }) => ({ name: card.querySelector('.tool-name').textContent, id: card.querySelector('.tool-id').textContent, input: input.textContent })),
    }
  }

  restore ({ text, reasoning, reasoningNote, tools = [] }) {
    if (text) this.text({ index: 0, text })
    if (reasoning !== undefined) {
      this.reasoningDelta({ index: 0, text: reasoning })
      this.reasoningNote.textContent = reasoningNote ?? ''
      this.reasoning.open = false
    }
    tools.forEach((tool, i) => {
      this.toolUse({ index: 1000 + i, toolUseId: tool.id, name: tool.name })
      this.toolInput({ index: 1000 + i, input: tool.input })
    })
  }
}
