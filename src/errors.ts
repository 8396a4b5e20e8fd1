// One catalogue of stable error codes. The README's "Error codes" table is checked
// against it by test/contract.test.ts. `status` is what the code answers before a stream
// starts (and on POST /v1/converse); after `start` the same code arrives as an `error`
// event. `message` is the public text: it never carries upstream details (ARNs,
// account ids, SDK messages), which go to the log only.

export const ERROR_CATALOGUE = {
  bad_request: { status: 400, retryable: false, message: 'The request is invalid.' },
  body_too_large: { status: 413, retryable: false, message: 'The request body is larger than the server accepts.' },
  unsupported_media_type: { status: 415, retryable: false, message: 'Send the body as application/json.' },
  request_timeout: { status: 408, retryable: true, message: 'The request (headers and body) did not arrive in time.' },
  headers_too_large: { status: 431, retryable: false, message: 'The request headers are larger than the server accepts.' },
  stream_not_found: { status: 404, retryable: false, message: 'No such stream (unknown, or expired).' },
  not_found: { status: 404, retryable: false, message: 'No such route.' },
  unauthorized: { status: 401, retryable: false, message: 'Send a valid API key as "Authorization: Bearer <key>", or a valid ticket.' },
  forbidden_origin: { status: 403, retryable: false, message: 'Requests from this origin are not allowed.' },
  input_too_large: { status: 400, retryable: false, message: 'The request has more messages or text than the server accepts.' },
  ticket_unverifiable: { status: 503, retryable: true, message: 'The server cannot check right now that this ticket is unused (its store is unreachable or was reset); get a new ticket and retry.' },
  rate_limited: { status: 429, retryable: true, message: 'Too many requests for this key; retry later.' },
  too_many_streams: { status: 429, retryable: true, message: 'Too many open streams for this key; close one or retry later.' },
  budget_exhausted: { status: 429, retryable: true, message: 'The token budget of this key is used up until resetAt.' },
  server_busy: { status: 503, retryable: true, message: 'The server has too many open streams; retry shortly.' },
  server_overloaded: { status: 503, retryable: true, message: 'The server is overloaded (event loop or memory); retry shortly.' },
  model_not_allowed: { status: 400, retryable: false, message: 'This model is not allowed on this server.' },
  option_not_allowed: { status: 400, retryable: false, message: 'This request option is not allowed on this server.' },
  upstream_throttled: { status: 429, retryable: true, message: 'Bedrock is throttling requests; retry later.' },
  upstream_unavailable: { status: 503, retryable: true, message: 'Bedrock is temporarily unavailable; retry later.' },
  upstream_rejected: { status: 400, retryable: false, message: 'Bedrock rejected the request.' },
  upstream_denied: { status: 502, retryable: false, message: 'The server is not allowed to call this model; contact its operator.' },
  // The server's own configuration, not Bedrock's answer (FIELD-NOTES 25): nothing was sent.
  upstream_credentials: { status: 500, retryable: false, message: 'The server has no AWS credentials to call Bedrock; contact its operator.' },
  upstream_error: { status: 502, retryable: true, message: 'Bedrock failed while answering; retry.' },
  upstream_timeout: { status: 504, retryable: true, message: 'Bedrock did not answer in time; retry.' },
  upstream_truncated: { status: 502, retryable: true, message: 'The Bedrock stream ended before the answer was complete; retry.' },
  cancelled: { status: 409, retryable: false, message: 'The stream was cancelled.' },
  stream_lost: { status: 502, retryable: true, message: 'The instance producing this stream stopped; the rest of the answer is lost.' },
  shutting_down: { status: 503, retryable: true, message: 'The server is shutting down; retry on another instance.' },
  internal: { status: 500, retryable: false, message: 'Internal error.' },
} as const satisfies Record<string, { status: number, retryable: boolean, message: string }>

export type ErrorCode = keyof typeof ERROR_CATALOGUE

/** The data of an `error` event (events.ts re-exports it with the rest of the contract). */
export interface ErrorData { code: ErrorCode, message: string, retryable: boolean, retryAfterMs?: number }

export interface ProxyErrorOptions {
  /** Public message; defaults to the catalogue's. Only for messages safe to show (bad input, Bedrock's own validation text). */
  message?: string
  retryAfterMs?: number
  /** ISO time at which a used-up budget resets (budget_exhausted). */
  resetAt?: string
  /** The request field at fault, in the client's own terms (`messages.1.content`): OpenAI's `param`. */
  param?: string
  cause?: unknown
}

export class ProxyError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly retryable: boolean
  readonly retryAfterMs: number | undefined
  readonly resetAt: string | undefined
  readonly param: string | undefined

  constructor (code: ErrorCode, options: ProxyErrorOptions = {}) {
    super(options.message ?? ERROR_CATALOGUE[code].message, { cause: options.cause })
    this.name = 'ProxyError'
    this.code = code
    this.status = ERROR_CATALOGUE[code].status
    this.retryable = ERROR_CATALOGUE[code].retryable
    this.retryAfterMs = options.retryAfterMs
    this.resetAt = options.resetAt
    this.param = options.param
  }

  /** The failure an `error` event reported, again (a surface that answers it as an HTTP error). */
  static fromEventData ({ code, message, retryAfterMs }: ErrorData): ProxyError {
    return new ProxyError(code, { message, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) })
  }

  /** The data of an `error` event, once a stream has started. */
  toEventData (): ErrorData {
    return {
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      ...(this.retryAfterMs !== undefined ? { retryAfterMs: this.retryAfterMs } : {}),
    }
  }

  /** The JSON body of an HTTP error answer. */
  toBody (): { error: { code: ErrorCode, message: string, retryAfterMs?: number, resetAt?: string } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.retryAfterMs !== undefined ? { retryAfterMs: this.retryAfterMs } : {}),
        ...(this.resetAt !== undefined ? { resetAt: this.resetAt } : {}),
      },
    }
  }
}
