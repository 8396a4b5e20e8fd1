// Maps whatever the AWS SDK (or the socket under it) throws to one catalogue code.
// Public messages never carry SDK text (it can hold ARNs and account ids), with one
// exception the catalogue allows: Bedrock's ValidationException is about the caller's
// own input, so its message passes (trimmed). The raw error goes to the log.
import { ProxyError, type ErrorCode } from '../errors.js'

const BY_NAME: Record<string, ErrorCode> = {
  ThrottlingException: 'upstream_throttled',
  ModelNotReadyException: 'upstream_throttled',
  ServiceQuotaExceededException: 'upstream_throttled',
  TooManyRequestsException: 'upstream_throttled',
  ServiceUnavailableException: 'upstream_unavailable',
  ValidationException: 'upstream_rejected',
  AccessDeniedException: 'upstream_denied',
  ResourceNotFoundException: 'upstream_denied',
  UnrecognizedClientException: 'upstream_denied',
  InvalidSignatureException: 'upstream_denied',
  ExpiredTokenException: 'upstream_denied',
  UnauthorizedException: 'upstream_denied',
  // No credentials anywhere in the chain (or no Bedrock API key): thrown before any
  // request is sent, so it is the server's configuration, not a refusal (FIELD-NOTES 25).
  CredentialsProviderError: 'upstream_credentials',
  TokenProviderError: 'upstream_credentials',
  InternalServerException: 'upstream_error',
  ModelStreamErrorException: 'upstream_error',
  ModelErrorException: 'upstream_error',
  ModelTimeoutException: 'upstream_timeout',
}

// Node socket / HTTP/2 error codes: the connection to Bedrock failed or broke.
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'])

interface SdkLikeError {
  name?: unknown
  code?: unknown
  message?: unknown
  $metadata?: { httpStatusCode?: number }
  $response?: { headers?: Record<string, string | undefined> }
}

/**
 * @param signal the stream's AbortSignal: when we aborted the call ourselves (timeout,
 * shutdown), its reason is the ProxyError to report, whatever the SDK threw.
 */
export function toProxyError (err: unknown, signal?: AbortSignal): ProxyError {
  if (signal?.aborted === true && signal.reason instanceof ProxyError) return signal.reason
  if (err instanceof ProxyError) return err
  const e = (typeof err === 'object' && err !== null ? err : {}) as SdkLikeError
  const name = typeof e.name === 'string' ? e.name : ''
  const code = BY_NAME[name]
  if (code === 'upstream_rejected') {
    const message = typeof e.message === 'string' && e.message !== '' ? e.message.slice(0, 500) : undefined
    return new ProxyError(code, { message, cause: err })
  }
  if (code === 'upstream_throttled' || code === 'upstream_unavailable') {
    return new ProxyError(code, { retryAfterMs: retryAfterMs(e), cause: err })
  }
  if (code !== undefined) return new ProxyError(code, { cause: err })
  if (causeCodes(err).some(c => UNREACHABLE.has(c))) return new ProxyError('upstream_unavailable', { cause: err })
  // Unknown 4xx from Bedrock: our request was wrong in a way we do not model; 5xx or
  // socket failures (ECONNRESET, ERR_HTTP2_*, a corrupt event-stream frame): upstream.
  return new ProxyError('upstream_error', { cause: err })
}

/** Log level of a failed call: the server's or upstream's fault (5xx) is an error, the rest a warning. */
export function logLevelOf (failure: ProxyError): 'error' | 'warn' {
  return failure.status >= 500 && failure.code !== 'shutting_down' ? 'error' : 'warn'
}

/** The HTTP/2 handler wraps socket errors: ERR_HTTP2_STREAM_CANCEL caused by ECONNREFUSED. */
function causeCodes (err: unknown): string[] {
  const codes: string[] = []
  for (let e = err, depth = 0; typeof e === 'object' && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string') codes.push(code)
  }
  return codes
}

function retryAfterMs (e: SdkLikeError): number | undefined {
  const raw = e.$response?.headers?.['retry-after']
  if (raw === undefined) return undefined
  const seconds = Number(raw)
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000)
  const date = Date.parse(raw)
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now())
}
