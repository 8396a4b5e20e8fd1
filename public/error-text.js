// What the page says for each error code (src/errors.ts, README "Error codes"), in the
// reader's terms, and what it offers: retry (retryable codes, after Retry-After), a new
// key (unauthorized), another model, or nothing (a server problem for its operator).

// A short title in the reader's words; the server's own message (public, from the
// catalogue) follows it, so a hint is only there when it adds what to do.
const TEXT = {
  rate_limited: ['Too many requests'],
  too_many_streams: ['Too many answers at once'],
  budget_exhausted: ['Token budget used up'],
  upstream_throttled: ['Bedrock is throttling'],
  server_busy: ['The server is busy'],
  server_overloaded: ['The server is overloaded'],
  upstream_unavailable: ['Bedrock is unavailable'],
  upstream_error: ['The answer failed'],
  upstream_timeout: ['Bedrock did not answer in time'],
  upstream_truncated: ['The answer was cut off'],
  stream_lost: ['The answer was lost'],
  shutting_down: ['The server is restarting'],
  ticket_unverifiable: ['The ticket could not be checked'],
  request_timeout: ['The request took too long to send'],
  connection_lost: ['Connection lost'],
  stream_gone: ['This answer is no longer available'],
  unauthorized: ['API key needed'],
  forbidden_origin: ['This page’s origin is not allowed', 'The operator must add it to CORS_ORIGINS or set PUBLIC_ORIGIN.'],
  model_not_allowed: ['Model not allowed', 'Pick another model.'],
  option_not_allowed: ['Option not allowed'],
  input_too_large: ['The conversation is too long', 'Start a new chat, or send a shorter message.'],
  body_too_large: ['The conversation is too long', 'Start a new chat, or send a shorter message.'],
  bad_request: ['The request was not valid'],
  upstream_rejected: ['Bedrock rejected the request'],
  upstream_denied: ['The server may not use this model'],
  upstream_credentials: ['The server has no AWS credentials'],
  request_refused: ['The server refused the request'],
  internal: ['Internal server error'],
}

/**
 * `{ title, hint, action }` for an error: action is 'retry' (retryable), 'key'
 * (unauthorized), 'model' (model_not_allowed) or undefined.
 */
export function describeError (error) {
  const [title, hint = ''] = TEXT[error.code] ?? ['Something went wrong']
  let extra = hint
  if (error.code === 'budget_exhausted' && error.resetAt) {
    extra = `It resets at ${new Date(error.resetAt).toLocaleTimeString()}.`
  }
  const action = error.code === 'unauthorized' ? 'key' : error.code === 'model_not_allowed' ? 'model' : error.retryable ? 'retry' : undefined
  return { title, hint: extra, action }
}

/** `12.3 s`, `850 ms`. */
export function formatMs (ms) {
  return ms >= 10_000 ? `${Math.round(ms / 1000)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`
}
