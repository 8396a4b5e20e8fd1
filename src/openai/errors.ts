// Errors in OpenAI's shape, for the OpenAI-compatible routes: `{ error: { message, type,
// code, param } }` with the same HTTP status as the native answer, so the `openai`
// client raises its own class for it (BadRequestError, AuthenticationError,
// RateLimitError, ...) and retries what it retries by status (429, 5xx). `code` is ours,
// from the catalogue (README "Error codes"); `type` is OpenAI's word for the status.
import type { ProxyError } from '../errors.js'

export interface OpenAIErrorBody {
  error: { message: string, type: string, code: string, param: string | null }
}

export function openAIErrorType (failure: ProxyError): string {
  if (failure.code === 'budget_exhausted') return 'insufficient_quota'
  switch (failure.status) {
    case 401: return 'authentication_error'
    case 403: return 'permission_error'
    case 404: return 'not_found_error'
    case 409: return 'conflict_error'
    case 429: return 'rate_limit_error'
  }
  return failure.status >= 500 ? 'server_error' : 'invalid_request_error'
}

export function toOpenAIErrorBody (failure: ProxyError): OpenAIErrorBody {
  return { error: { message: failure.message, type: openAIErrorType(failure), code: failure.code, param: failure.param ?? null } }
}
