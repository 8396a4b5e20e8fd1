// What the page says for each error code (src/errors.ts, README "Error codes"), in the
// reader's terms, and what it offers: retry (retryable codes, after Retry-After), a new
// key (unauthorized), another model, or nothing (a server problem for its operator).

const TEXT = {
  rate_limited: ['Too many requests', 'This key has sent too many requests for now.'],
  too_many_streams: ['Too many answers at once', 'Wait for another answer to finish (or stop it), then retry.'],
  budget_exhausted: ['Token budget used up', 'This key has used its token budget for now.'],
  upstream_throttled: ['Bedrock is throttling', 'The model’s quota is busy right now.'],
  server_busy: ['The server is busy', 'It has too many open streams right now.'],
  server_overloaded: ['The server is overloaded', 'It is short of CPU or memory right now.'],
  upstream_unavailable: ['Bedrock is unavailable', 'Bedrock could not take the request right now.'],
  upstream_error: ['The model failed while answering', 'The answer stopped with a model error.'],
  upstream_timeout: ['Bedrock did not answer in time', 'No answer came within the server’s deadline.'],
  upstream_truncated: ['The answer was cut off', 'Bedrock’s stream ended before the answer was complete.'],
  stream_lost: ['The answer was lost', 'The server instance producing it stopped.'],
  shutting_down: ['The server is restarting', 'It is shutting down; a retry reaches another instance.'],
  ticket_unverifiable: ['The ticket could not be checked', 'The server cannot prove the ticket unused right now.'],
  request_timeout: ['The request took too long to send', 'The server did not receive it in time.'],
  connection_lost: ['Connection lost', 'The connection dropped and the answer could not be resumed.'],
  stream_gone: ['This answer is no longer available', 'The server no longer holds it (it expired, or the server restarted).'],
  unauthorized: ['API key needed', 'The server did not accept this tab’s API key (or it has none).'],
  forbidden_origin: ['This page’s origin is not allowed', 'The operator must add it to CORS_ORIGINS or set PUBLIC_ORIGIN.'],
  model_not_allowed: ['Model not allowed', 'This server does not offer that model: pick another one.'],
  input_too_large: ['The conversation is too long', 'Start a new chat, or send a shorter message.'],
  body_too_large: ['The conversation is too long', 'Start a new chat, or send a shorter message.'],
  bad_request: ['The request was not valid', ''],
  upstream_rejected: ['Bedrock rejected the request', ''],
  upstream_denied: ['The server may not use this model', 'Its AWS account or policy does not allow it: tell the operator.'],
  upstream_credentials: ['The server has no AWS credentials', 'Tell the operator: nothing was sent to Bedrock.'],
  request_refused: ['The server refused the request', ''],
  internal: ['Internal server error', 'Tell the operator.'],
}

/**
 * `{ title, hint, action }` for an error: action is 'retry' (retryable), 'key'
 * (unauthorized), 'model' (model_not_allowed) or undefined.
 */
export function describeError (error) {
  const [title, hint] = TEXT[error.code] ?? ['Something went wrong', '']
  let extra = hint
  if (error.code === 'budget_exhausted' && error.resetAt) {
    extra = `${hint} It resets at ${new Date(error.resetAt).toLocaleTimeString()}.`
  }
  const action = error.code === 'unauthorized' ? 'key' : error.code === 'model_not_allowed' ? 'model' : error.retryable ? 'retry' : undefined
  return { title, hint: extra, action }
}

/** `12.3 s`, `850 ms`. */
export function formatMs (ms) {
  return ms >= 10_000 ? `${Math.round(ms / 1000)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`
}
