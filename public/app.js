// The chat page. Each turn is one POST /v1/converse-stream carrying the whole
// conversation as `messages`, read by client.js (which resumes a dropped connection with
// Last-Event-ID). The conversation and the id of a running answer live in sessionStorage,
// so a reload shows the chat again and picks the running answer up (GET /v1/streams/{id}
// through EventSource, with a ticket when the server has keys). With Tools on, the page
// offers its own tool (browser-tools.js); when an answer stops for `tool_use` it runs it and
// sends the next request itself (a round), up to MAX_TOOL_ROUNDS per question.
import { runTool } from './browser-tools.js'
import { followStream, listModels, streamConverse } from './client.js'
import { MAX_TOOL_ROUNDS, newRound, requestFor, storedRounds, storedTurn } from './conversation.js'
import { describeError } from './error-text.js'
import { AnswerView, el, userTurn } from './turn-view.js'
import { askForKey, currentKey, keyButton } from './key.js'

const CHAT_KEY = 'bedrock-sse-proxy.chat'
const SETTINGS_KEY = 'bedrock-sse-proxy.settings'
const $ = (id) => document.getElementById(id)
const ui = {
  log: $('log'),
  welcome: $('welcome'),
  scenarios: $('scenarios'),
  form: $('composer'),
  prompt: $('prompt'),
  model: $('model'),
  send: $('send'),
  stop: $('stop'),
  status: $('status'),
  newChat: $('new-chat'),
  tools: $('tools'),
  think: $('think'),
}

/**
 * One question and its answer: { user, model, options: { tools, think }, rounds, view,
 * streamId, error, stop, meta, limited, stream, stopping }. A round is one request's answer:
 * { content: AssistantContent, results: toolResult blocks the page sent back, stopReason }.
 */
let turns = []
let active = null // the turn whose answer is streaming

function setStatus (text) {
  ui.status.textContent = text
}

function setBusy (busy) {
  document.body.dataset.state = busy ? 'streaming' : 'idle'
  ui.send.hidden = busy
  ui.stop.hidden = !busy
  if (!busy && document.activeElement === document.body) ui.prompt.focus()
}

function settings () {
  return { tools: ui.tools.checked, think: ui.think.checked }
}

function restoreSettings () {
  try {
    const saved = JSON.parse(sessionStorage.getItem(SETTINGS_KEY) ?? 'null')
    if (saved === null) return
    ui.tools.checked = saved.tools === true
    ui.think.checked = saved.think === true
  } catch {}
}

function saveSettings () {
  try { sessionStorage.setItem(SETTINGS_KEY, JSON.stringify(settings())) } catch {}
}

function save () {
  try { sessionStorage.setItem(CHAT_KEY, JSON.stringify(turns.map(storedTurn))) } catch { /* full or disabled: the chat just won't survive a reload */ }
}

function addTurn (user, model, options) {
  const turn = { user, model, options, rounds: [newRound()], view: new AnswerView(), meta: {} }
  turns.push(turn)
  ui.welcome.hidden = true
  ui.log.append(userTurn(user), turn.view.node)
  window.scrollTo({ top: document.documentElement.scrollHeight })
  return turn
}

// Follows the answer as it grows, unless the reader scrolled up to read something else.
function keepInView (update) {
  const atBottom = window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 80
  update()
  if (atBottom) window.scrollTo({ top: document.documentElement.scrollHeight })
}

function onEvent (turn, event) {
  turn.rounds.at(-1).content.add(event)
  keepInView(() => render(turn, event))
}

function render (turn, { type, data }) {
  const view = turn.view
  if (type === 'start') {
    turn.streamId = data.streamId
    turn.model = data.model
    save() // a reload from here on picks this answer up
  } else if (type === 'text') {
    view.foldReasoning()
    view.text(data)
  } else if (type === 'reasoning') view.reasoningDelta(data)
  else if (type === 'tool_use') view.toolUse(data)
  else if (type === 'tool_input') view.toolInput(data)
  else if (type === 'block_stop') view.blockStop(data)
  else if (type === 'citation') view.citation(data)
  else if (type === 'delta') view.delta(data)
  else if (type === 'stop') turn.meta.stopReason = turn.rounds.at(-1).stopReason = data.stopReason
  else if (type === 'usage') turn.meta.usage = data
  else if (type === 'error') turn.error = data
  view.showMeta({ model: turn.model, ...turn.meta })
}

const STATE_TEXT = { connecting: 'Connecting…', streaming: 'Answering…', resuming: 'Connection lost: resuming where it left off…' }

async function run (turn, open) {
  active = turn
  turn.error = undefined
  turn.stop = undefined
  turn.stopping = undefined
  turn.meta = {}
  setBusy(true)
  const stream = open({ apiKey: currentKey(), onEvent: (e) => onEvent(turn, e), onState: (s) => setStatus(STATE_TEXT[s] ?? '') })
  turn.stream = stream
  try {
    const summary = await stream.result
    turn.meta.firstTokenMs = summary.firstTokenMs
  } catch (err) {
    if (err.code !== 'closed') turn.error = err
  }
  const stopOutcome = turn.stopping ? await turn.stopping : undefined
  turn.stream = undefined
  const round = turn.rounds.at(-1)
  const calls = !stopOutcome && !turn.error && turn.options.tools && round.stopReason === 'tool_use' ? round.content.toolCalls() : []
  const toolRounds = turn.rounds.length - 1
  if (calls.length > 0 && toolRounds < MAX_TOOL_ROUNDS && active === turn) return nextRound(turn, round, calls)
  keepInView(() => {
    if (stopOutcome) showStopped(turn, stopOutcome)
    else if (turn.error) showFailure(turn)
    else turn.view.setState('done')
    if (calls.length > 0) {
      turn.limited = true
      showLimit(turn)
    }
    turn.view.showMeta({ model: turn.model, ...turn.meta })
  })
  if (active === turn) {
    active = null
    setBusy(false)
    setStatus('')
  }
  save()
}

// The model asked for tools: run them here, show each result on its card, and send the
// next request (the conversation with this round and the results) in the same answer.
function nextRound (turn, round, calls) {
  round.results = calls.map(runTool)
  keepInView(() => {
    round.results.forEach((result) => turn.view.toolResult(result))
    turn.view.startRound()
  })
  turn.rounds.push(newRound())
  turn.streamId = undefined
  save()
  return send(turn)
}

function send (turn) {
  return run(turn, (opts) => streamConverse({ ...opts, ...requestFor(turns, turn) }))
}

function follow (turn) {
  return run(turn, (opts) => followStream({ ...opts, streamId: turn.streamId }))
}

function actionsFor (turn, error) {
  const { action } = describeError(error)
  if (action === 'key') {
    const button = el('button', 'primary', 'Enter API key')
    button.type = 'button'
    button.addEventListener('click', async () => { if (await askForKey('The server did not accept the request without a valid key.')) retry(turn) })
    return [button]
  }
  if (action === 'retry') return [retryButton(turn, error.retryAfterMs)]
  const option = turn.rounds.length === 1 && error.code === 'option_not_allowed' ? refusedOption(turn, error) : undefined
  if (option !== undefined) {
    const button = el('button', 'primary', option === 'think' ? 'Turn thinking off and retry' : 'Turn tools off and retry')
    button.type = 'button'
    button.addEventListener('click', () => {
      ui[option].checked = false
      saveSettings()
      turn.options = { ...turn.options, [option]: false }
      retry(turn)
    })
    return [button]
  }
  if (action === 'model') {
    const button = el('button', '', 'Choose another model')
    button.type = 'button'
    button.addEventListener('click', () => ui.model.focus())
    return [button, retryButton(turn)]
  }
  return []
}

// Retry-After, counted down on the button itself: disabled until the server said it may help.
function retryButton (turn, retryAfterMs = 0) {
  const button = el('button', 'retry primary', 'Retry')
  button.type = 'button'
  button.addEventListener('click', () => retry(turn))
  const until = Date.now() + retryAfterMs
  const tick = () => {
    const left = Math.ceil((until - Date.now()) / 1000)
    button.disabled = left > 0
    button.textContent = left > 0 ? `Retry in ${left} s` : 'Retry'
    if (left > 0) setTimeout(tick, 250)
  }
  tick()
  return button
}

// Which of the page's own options the server refused (its message names the field).
function refusedOption (turn, error) {
  if (turn.options.think && /^reasoning/.test(error.message ?? '')) return 'think'
  if (turn.options.tools && /tool/i.test(error.message ?? '')) return 'tools'
  return undefined
}

// The failed round again; the rounds before it (and the tools they ran) stay.
function retry (turn) {
  if (active !== null) return
  turn.rounds[turn.rounds.length - 1] = newRound()
  turn.view.resetRound()
  turn.model = ui.model.value || undefined
  turn.view.showMeta({})
  send(turn)
}

function showLimit (turn) {
  turn.view.showNotice('info', {
    title: `Stopped after ${MAX_TOOL_ROUNDS} tool rounds.`,
    message: 'The model asked for yet another tool call; this page runs at most that many per question. Ask again to go on.',
  })
}

function showFailure (turn) {
  turn.view.setState('error')
  turn.view.showError(turn.error, actionsFor(turn, turn.error))
}

const STOP_TEXT = {
  cancelling: ['Stopped.', 'The server cancelled the upstream call: nothing more is generated or billed.'],
  ended: ['Stopped.', 'The answer had already finished on the server.'],
  not_started: ['Stopped before the answer started.', 'If the server started a call, it ends it by itself.'],
}

function showStopped (turn, outcome) {
  turn.stop = outcome
  turn.view.setState('stopped')
  const known = STOP_TEXT[outcome.status]
  if (known !== undefined) return turn.view.showNotice('info', { title: known[0], message: known[1] })
  // refused or unreachable: say so; the answer stays stopped on this page either way.
  turn.view.showNotice('error', {
    title: 'Stop refused.',
    message: `${outcome.error.message} This page stopped reading; the server ends the call by itself shortly (its grace period).`,
    code: outcome.error.code,
  })
}

function stop () {
  const turn = active
  if (turn === null || turn.stream === undefined || turn.stopping) return
  setStatus('Stopping…')
  turn.stopping = turn.stream.cancel()
}

function newChat () {
  if (active !== null) stop()
  active = null
  turns = []
  ui.log.replaceChildren()
  ui.welcome.hidden = false
  sessionStorage.removeItem(CHAT_KEY)
  setBusy(false)
  setStatus('')
  ui.prompt.focus()
}

function restore () {
  let stored = []
  try { stored = JSON.parse(sessionStorage.getItem(CHAT_KEY) ?? '[]') } catch {}
  let pending = null
  for (const s of stored) {
    const turn = addTurn(s.user, s.model, s.options ?? { tools: false, think: false })
    const rounds = storedRounds(s)
    Object.assign(turn, { rounds, streamId: s.streamId, error: s.error, stop: s.stop, meta: s.meta ?? {}, limited: s.limited })
    // A running answer is replayed from its start: its round starts empty.
    const running = s.state === 'streaming' && s.streamId
    if (running) rounds[rounds.length - 1] = newRound()
    rounds.forEach((round, i) => {
      if (i > 0) turn.view.startRound()
      turn.view.restoreRound(round.content.blocks, round.results)
    })
    if (running) pending = turn
    else {
      turn.view.setState(s.state)
      turn.view.showMeta({ model: turn.model, ...turn.meta })
      if (s.state === 'error' && s.error) showFailure(turn)
      if (s.state === 'stopped' && s.stop) showStopped(turn, s.stop)
      if (turn.limited) showLimit(turn)
    }
  }
  if (pending !== null) follow(pending)
}

async function loadModels () {
  try {
    const ids = await listModels({ apiKey: currentKey() })
    if (ids.length === 0) return
    ui.model.replaceChildren(...ids.map((id, i) => {
      const option = el('option', '', i === 0 ? `${id} (default)` : id)
      option.value = id
      return option
    }))
    // The emulator's models: show its scenario prompts.
    ui.scenarios.hidden = !ids.some((id) => id.startsWith('demo.'))
  } catch (err) {
    if (err.code === 'unauthorized' && await askForKey('This server needs an API key.')) return loadModels()
    // No model list (an older server): keep "Server default model".
  }
}

ui.form.addEventListener('submit', (event) => {
  event.preventDefault()
  const text = ui.prompt.value.trim()
  if (text === '' || active !== null) return ui.prompt.focus()
  ui.prompt.value = ''
  send(addTurn(text, ui.model.value || undefined, settings()))
})
for (const toggle of [ui.tools, ui.think]) toggle.addEventListener('change', saveSettings)
ui.prompt.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault()
    ui.form.requestSubmit()
  }
})
document.addEventListener('keydown', (event) => { if (event.key === 'Escape' && active !== null && !document.querySelector('dialog[open]')) stop() })
ui.stop.addEventListener('click', stop)
ui.newChat.addEventListener('click', newChat)
keyButton.addEventListener('click', async () => { if (await askForKey()) loadModels() })
ui.scenarios.querySelectorAll('[data-prompt]').forEach((button) => button.addEventListener('click', () => {
  ui.prompt.value = button.dataset.prompt
  ui.prompt.focus()
}))

restoreSettings()
loadModels()
restore()
