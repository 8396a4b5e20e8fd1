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

// One request's part of an answer: its reasoning (apart, collapsible), text and tool cards.
// A question answered through tools takes several requests, so several rounds.
class Round {
  constructor () {
    this.node = el('div', 'round')
    this.reasoning = el('details', 'reasoning')
    this.reasoning.hidden = true
    this.reasoningText = el('div', 'reasoning-text')
    this.reasoningNote = el('p', 'note')
    this.reasoning.append(el('summary', '', 'Reasoning'), this.reasoningText, this.reasoningNote)
    // Announced once complete: aria-busy holds the live region back while tokens arrive.
    this.answer = el('div', 'answer')
    this.answer.setAttribute('aria-live', 'polite')
    this.tools = el('div', 'tools')
    this.node.append(this.reasoning, this.answer, this.tools)
    this.blocks = new Map()
    this.toolCards = new Map()
  }
}

export class AnswerView {
  constructor () {
    this.node = el('li', 'turn assistant')
    this.node.dataset.testid = 'answer'
    this.rounds = el('div', 'rounds')
    this.sources = el('section', 'sources')
    this.sources.hidden = true
    this.notice = el('div', 'notice')
    this.notice.hidden = true
    this.meta = el('p', 'meta')
    this.node.append(el('h2', 'visually-hidden', 'Answer:'), this.rounds, this.sources, this.notice, this.meta)
    this.reset()
  }

  /** Clears the whole answer. */
  reset () {
    this.rounds.replaceChildren()
    this.sources.hidden = true
    this.sources.replaceChildren()
    this.startRound()
    this.clearNotice()
    this.meta.replaceChildren()
    this.setState('streaming')
  }

  /** The next request of a tool loop: its own reasoning, text and cards, under the last. */
  startRound () {
    this.round = new Round()
    this.rounds.append(this.round.node)
    this.setState(this.state ?? 'streaming')
  }

  /** Clears the current round only (a retry of it: the tools before it already ran). */
  resetRound () {
    const old = this.round
    this.round = new Round()
    old.node.replaceWith(this.round.node)
    this.clearNotice()
    this.setState('streaming')
  }

  setState (state) {
    this.node.dataset.state = state
    for (const answer of this.rounds.querySelectorAll('.answer')) answer.setAttribute('aria-busy', String(state === 'streaming'))
  }

  get state () { return this.node.dataset.state }

  text ({ index, text }) {
    const round = this.round
    let block = round.blocks.get(index)
    if (block === undefined) {
      block = el('span', 'block')
      round.blocks.set(index, block)
      round.answer.append(block)
    }
    block.append(text) // a text node: markup in `text` stays text
  }

  reasoningDelta (data) {
    const round = this.round
    if (round.reasoning.hidden) {
      round.reasoning.hidden = false
      round.reasoning.open = true // open while it streams; folded away once the answer starts
    }
    if (typeof data.text === 'string') round.reasoningText.append(data.text)
    else if (typeof data.signature === 'string') round.reasoningNote.textContent = 'Signed by the model.'
    else if (typeof data.redacted === 'string') {
      const bytes = Math.floor(data.redacted.length * 3 / 4) - (data.redacted.match(/=*$/)[0].length)
      round.reasoningNote.textContent = `Redacted by the provider: ${bytes} encrypted bytes, not shown.`
    }
  }

  toolUse ({ index, toolUseId, name, type }) {
    const card = el('article', 'tool')
    if (type) card.dataset.type = type // server_tool_use: Bedrock runs it itself
    const head = el('header', 'tool-head')
    head.append(el('h3', 'tool-name', name), el('span', 'tool-id', toolUseId))
    const input = el('pre', 'tool-input')
    card.append(head, el('p', 'tool-label', 'Input:'), input)
    this.round.toolCards.set(index, { card, input, json: '', toolUseId })
    this.round.tools.append(card)
  }

  toolInput ({ index, input }) {
    const tool = this.round.toolCards.get(index)
    if (tool === undefined) return
    tool.json += input
    tool.input.textContent = tool.json
  }

  blockStop ({ index }) {
    const tool = this.round.toolCards.get(index)
    if (tool === undefined) return
    try {
      tool.input.textContent = JSON.stringify(JSON.parse(tool.json || '{}'), null, 2)
      tool.card.dataset.parsed = 'true'
    } catch {
      tool.card.dataset.parsed = 'false' // shown as received
    }
  }

  /** What the page's own tool answered (a toolResult block), on the card that asked for it. */
  toolResult ({ toolResult: { toolUseId, content, status } }) {
    const tool = [...this.round.toolCards.values()].find((t) => t.toolUseId === toolUseId)
    if (tool === undefined) return
    tool.card.dataset.status = status
    const shown = content.map((c) => c.json !== undefined ? JSON.stringify(c.json, null, 2) : c.text).join('\n')
    const label = el('p', 'tool-label result', status === 'error' ? 'Failed in this browser:' : 'Ran in this browser:')
    tool.card.append(label, el('pre', 'tool-result', shown))
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
    this.round.tools.append(el('pre', 'tool delta', `block ${index}, ${kind}: ${JSON.stringify(value, null, 2)}`))
  }

  foldReasoning () {
    if (!this.round.reasoning.hidden) this.round.reasoning.open = false
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

  /**
   * A finished round again, after a reload: from the blocks the page keeps to send back
   * (AssistantContent's) and the tool results it sent.
   */
  restoreRound (blocks, results = []) {
    for (const [index, block] of [...blocks].sort(([a], [b]) => a - b)) {
      if (block.reasoning !== undefined) this.reasoningDelta({ index, text: block.reasoning })
      if (block.signature !== undefined) this.reasoningDelta({ index, signature: block.signature })
      if (block.redacted !== undefined) this.reasoningDelta({ index, redacted: block.redacted })
      if (block.text) this.text({ index, text: block.text })
      if (block.tool !== undefined) {
        this.toolUse({ index, ...block.tool })
        this.toolInput({ index, input: block.tool.input })
        this.blockStop({ index })
      }
    }
    this.foldReasoning()
    results.forEach((result) => this.toolResult(result))
  }
}
