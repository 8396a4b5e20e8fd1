// The API key, asked once and kept for this tab only (sessionStorage: gone when the tab
// closes, never in localStorage or a cookie). fetch sends it as Authorization; client.js
// trades it for a single-use ticket for each EventSource.
const KEY = 'bedrock-sse-proxy.apiKey'
const dialog = document.getElementById('key-dialog')
const input = document.getElementById('key-input')
const why = document.getElementById('key-why')
export const keyButton = document.getElementById('key')

export function currentKey () {
  return sessionStorage.getItem(KEY) ?? undefined
}

function showButton () {
  keyButton.hidden = currentKey() === undefined
}

// Only "Use key" submits, so Enter in the field means "use it".
document.getElementById('key-cancel').addEventListener('click', () => dialog.close('cancel'))
const forget = document.getElementById('key-forget')
forget.addEventListener('click', () => {
  sessionStorage.removeItem(KEY)
  input.value = ''
  dialog.close('forget')
})

/** Opens the dialog; resolves true when a key was entered (or forgotten), false on cancel. */
export function askForKey (reason = 'The key this tab uses for this server.') {
  why.textContent = reason
  forget.hidden = currentKey() === undefined
  input.value = ''
  dialog.returnValue = ''
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      const key = input.value.trim()
      if (dialog.returnValue === 'save' && key !== '') sessionStorage.setItem(KEY, key)
      input.value = ''
      showButton()
      resolve(dialog.returnValue === 'forget' || (dialog.returnValue === 'save' && key !== ''))
    }, { once: true })
    dialog.showModal()
    input.focus()
  })
}

showButton()
