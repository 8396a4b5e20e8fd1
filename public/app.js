// The demo page's client: one EventSource per question, on GET /v1/converse-stream.
// Model text is only ever rendered with textContent / text nodes (never innerHTML), so
// an answer cannot inject markup. The contract is src/events.ts.
/* global EventSource */ // not among the globals neostandard declares

const $ = (id) => document.getElementById(id)
const ui = {
  form: $('ask'),
  prompt: $('prompt'),
  model: $('model'),
  send: $('send'),
  stop: $('stop'),
  status: $('status'),
  error: $('error'),
  reasoning: $('reasoning'),
  answer: $('answer'),
  tools: $('tools'),
  usage: $('usage'),
}

let es = null // the open EventSource, if any
let run = null // what the current stream has shown so far

function el (tag, className, text) {
  const node = document.createElement(tag)
  if (className) node.className = className
  if (text !== undefined) node.textContent = text
  return node
}

function setState (state, status) {
  document.body.dataset.state = state
  ui.status.textContent = status
  const live = state === 'streaming'
  ui.send.disabled = live
  ui.stop.disabled = !live
}

function reset () {
  ui.answer.replaceChildren()
  ui.error.replaceChildren()
  ui.error.hidden = true
  ui.reasoning.hidden = true
  ui.reasoning.open = false
  ui.reasoning.querySelector('.reasoning-text').replaceChildren()
  ui.reasoning.querySelector('.note').textContent = ''
  ui.tools.querySelectorAll('.tool, .delta').forEach((node) => node.remove())
  ui.tools.hidden = true
  ui.usage.replaceChildren()
  ui.usage.hidden = true
}

// Closing is what keeps a finished stream from being requested again: EventSource
// reconnects after a clean end too (FIELD-NOTES 14). Closing early also makes the
// server abort the upstream Bedrock call.
function closeStream () {
  if (es !== null) es.close()
  es = null
}

function start () {
  const prompt = ui.prompt.value.trim()
  if (prompt === '') {
    setState('idle', 'Type a prompt first.')
    ui.prompt.focus()
    return
  }
  closeStream()
  reset()
  run = { started: false, stopReason: null, failed: null, blocks: new Map(), tools: new Map() }
  const query = new URLSearchParams({ prompt, model: ui.model.value })
  es = new EventSource(`/v1/converse-stream?${query}`)
  setState('streaming', 'Connecting…')
  const current = es
  // Each handler ignores events from a stream this page has already let go of.
  const on = (type, handle) => current.addEventListener(type, (event) => {
    if (es === current) handle(event)
  })
  on('start', (ev) => {
    const { model, streamId } = JSON.parse(ev.data)
    run.started = true
    run.streamId = streamId
    setState('streaming', `Streaming from ${model}…`)
  })
  on('text', (ev) => onText(JSON.parse(ev.data)))
  on('reasoning', (ev) => onReasoning(JSON.parse(ev.data)))
  on('tool_use', (ev) => onToolUse(JSON.parse(ev.data)))
  on('tool_input', (ev) => onToolInput(JSON.parse(ev.data)))
  on('delta', (ev) => onDelta(JSON.parse(ev.data)))
  on('block_stop', (ev) => onBlockStop(JSON.parse(ev.data)))
  on('stop', (ev) => { run.stopReason = JSON.parse(ev.data).stopReason })
  on('usage', (ev) => showUsage(JSON.parse(ev.data)))
  on('done', () => {
    closeStream()
    if (run.failed) setState('error', `Error: ${run.failed.code}: ${run.failed.message}`)
    else setState('done', `Done (stopReason: ${run.stopReason ?? 'unknown'}).`)
  })
  // One listener for two things: the server's `error` event (a MessageEvent with data)
  // and EventSource's own connection error (a plain Event).
  on('error', (ev) => {
    if (ev instanceof MessageEvent && typeof ev.data === 'string') {
      run.failed = JSON.parse(ev.data)
      showError(run.failed)
      setState('streaming', `Error: ${run.failed.code} (waiting for the end of the stream)…`)
      return
    }
    // After `start`, a dropped connection is retried by EventSource itself with
    // Last-Event-ID, and the server resumes the same stream (Bedrock is not called again).
    if (run.started && current.readyState === EventSource.CONNECTING) {
      setState('streaming', 'Connection lost, resuming…')
      return
    }
    // Before `start`: a 4xx/5xx answer (EventSource does not expose it; fetching the URL
    // to read the body could start a second generation). After it: resuming failed.
    closeStream()
    const failure = run.started
      ? { code: 'connection_lost', message: 'The connection closed before the answer was complete.', retryable: true }
      : { code: 'request_refused', message: 'The server refused the request (HTTP error).', retryable: false }
    run.failed = failure
    showError(failure)
    setState('error', `Error: ${failure.code}: ${failure.message}`)
  })
}

function textBlock (index) {
  let block = run.blocks.get(index)
  if (block === undefined) {
    block = el('span', 'block')
    block.dataset.index = String(index)
    run.blocks.set(index, block)
    ui.answer.append(block)
  }
  return block
}

function onText ({ index, text }) {
  textBlock(index).append(text) // a text node: markup in `text` stays text
}

function onReasoning (data) {
  if (ui.reasoning.hidden) {
    ui.reasoning.hidden = false
    ui.reasoning.open = true // shown while it streams; the reader may fold it away
  }
  const note = ui.reasoning.querySelector('.note')
  if (typeof data.text === 'string') {
    ui.reasoning.querySelector('.reasoning-text').append(data.text)
  } else if (typeof data.signature === 'string') {
    note.textContent = `Signed reasoning (signature: ${data.signature.slice(0, 40)}${data.signature.length > 40 ? '…' : ''})`
  } else if (typeof data.redacted === 'string') {
    const bytes = Math.floor(data.redacted.length * 3 / 4) - (data.redacted.match(/=*$/)[0].length)
    note.textContent = `Redacted reasoning: ${bytes} encrypted bytes, not shown.`
  }
}

function onToolUse ({ index, toolUseId, name }) {
  const card = el('article', 'tool')
  card.dataset.index = String(index)
  const title = el('h3', 'tool-name', name)
  const id = el('span', 'tool-id', toolUseId)
  const input = el('pre', 'tool-input')
  card.append(title, id, input)
  run.tools.set(index, { card, input, json: '' })
  ui.tools.append(card)
  ui.tools.hidden = false
}

function onToolInput ({ index, input }) {
  const tool = run.tools.get(index)
  if (tool === undefined) return
  tool.json += input
  tool.input.textContent = tool.json
}

function onBlockStop ({ index }) {
  const tool = run.tools.get(index)
  if (tool === undefined) return
  try {
    tool.input.textContent = JSON.stringify(JSON.parse(tool.json || '{}'), null, 2)
    tool.card.dataset.parsed = 'true'
  } catch {
    tool.card.dataset.parsed = 'false' // shown as received
  }
}

function onDelta ({ index, kind, value }) {
  const item = el('pre', 'delta', `block ${index}, ${kind}: ${JSON.stringify(value, null, 2)}`)
  ui.tools.append(item)
  ui.tools.hidden = false
}

function showUsage (usage) {
  const rows = [
    ['Input tokens', usage.inputTokens],
    ['Output tokens', usage.outputTokens],
    ['Total tokens', usage.totalTokens],
    ['Cache read tokens', usage.cacheReadInputTokens],
    ['Cache write tokens', usage.cacheWriteInputTokens],
    ['Latency', usage.latencyMs === undefined ? undefined : `${usage.latencyMs} ms`],
  ]
  ui.usage.replaceChildren(...rows.filter(([, value]) => value !== undefined && value !== null).map(([label, value]) => {
    const row = el('div', 'metric')
    row.append(el('dt', '', label), el('dd', '', String(value)))
    return row
  }))
  ui.usage.hidden = false
}

function showError ({ code, message, retryable, retryAfterMs }) {
  const retry = retryable
    ? `Retryable${retryAfterMs !== undefined ? ` after ${retryAfterMs} ms` : ''}.`
    : 'Not retryable.'
  ui.error.replaceChildren(el('strong', 'code', code), el('span', 'message', ` ${message} `), el('span', 'retry', retry))
  ui.error.dataset.code = code
  ui.error.hidden = false
}

ui.form.addEventListener('submit', (event) => {
  event.preventDefault()
  start()
})
ui.prompt.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey) && !ui.send.disabled) ui.form.requestSubmit()
})
// Closing alone would leave the server waiting RESUME_GRACE_MS for a reconnect; the
// DELETE cancels the upstream Bedrock call at once. Its answer is the real outcome: a
// refused cancel (403 behind a proxy that rewrites Host, 429, 404) is shown as such,
// never as "Stopped" (issue 8).
async function cancelStream (streamId) {
  try {
    const res = await fetch(`/v1/streams/${encodeURIComponent(streamId)}`, { method: 'DELETE' })
    const body = await res.json().catch(() => ({}))
    if (res.status === 202) return { state: 'stopped', status: 'Stopped: the server cancelled the upstream call.' }
    if (res.status === 200) return { state: 'stopped', status: 'Stopped: the answer had already ended on the server.' }
    const failure = body.error ?? { code: `http_${res.status}`, message: 'The server refused the cancel.' }
    return { state: 'error', failure: { ...failure, retryable: res.status === 429 || res.status >= 500 } }
  } catch {
    return { state: 'error', failure: { code: 'cancel_failed', message: 'The cancel request did not reach the server.', retryable: true } }
  }
}

ui.stop.addEventListener('click', async () => {
  if (es === null) return
  closeStream()
  const stopped = run
  if (!stopped.streamId) {
    // No `start` yet, so no id to cancel: the server ends the call once nobody reconnects.
    setState('stopped', 'Stopped before the stream started: the server ends it by itself.')
    return
  }
  setState('stopping', 'Stopping…')
  const outcome = await cancelStream(stopped.streamId)
  if (run !== stopped) return // a new question started meanwhile
  if (outcome.state === 'stopped') {
    setState('stopped', outcome.status)
    return
  }
  stopped.failed = outcome.failure
  showError(outcome.failure)
  setState('error', `Stop refused: ${outcome.failure.code}: ${outcome.failure.message} The server ends the upstream call by itself once nobody reads the stream.`)
})
document.querySelectorAll('[data-prompt]').forEach((button) => button.addEventListener('click', () => {
  ui.prompt.value = button.dataset.prompt
  ui.prompt.focus()
}))
