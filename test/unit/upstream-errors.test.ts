// toProxyError: whatever the SDK (or the socket under it) throws -> one catalogue code,
// with no SDK text in public messages except ValidationException's own.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ProxyError, type ErrorCode } from '../../src/errors.js'
import { logLevelOf, toProxyError } from '../../src/bedrock/upstream-errors.js'

/** An error shaped like the SDK's ServiceException: a name, a message, $metadata, $response. */
function sdkError (name: string, message = `${name} from arn:aws:bedrock:us-east-1:123456789012:x`, headers: Record<string, string> = {}): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 }, $response: { headers } })
}

const BY_NAME: Array<[string, ErrorCode]> = [
  ['ThrottlingException', 'upstream_throttled'],
  ['ModelNotReadyException', 'upstream_throttled'],
  ['ServiceQuotaExceededException', 'upstream_throttled'],
  ['TooManyRequestsException', 'upstream_throttled'],
  ['ServiceUnavailableException', 'upstream_unavailable'],
  ['ValidationException', 'upstream_rejected'],
  ['AccessDeniedException', 'upstream_denied'],
  ['ResourceNotFoundException', 'upstream_denied'],
  ['UnrecognizedClientException', 'upstream_denied'],
  ['InvalidSignatureException', 'upstream_denied'],
  ['ExpiredTokenException', 'upstream_denied'],
  ['UnauthorizedException', 'upstream_denied'],
  ['CredentialsProviderError', 'upstream_credentials'],
  ['TokenProviderError', 'upstream_credentials'],
  ['InternalServerException', 'upstream_error'],
  ['ModelStreamErrorException', 'upstream_error'],
  ['ModelErrorException', 'upstream_error'],
  ['ModelTimeoutException', 'upstream_timeout'],
]

test('each SDK exception name maps to its code; the SDK text stays out of the public message', () => {
  for (const [name, code] of BY_NAME) {
    const err = sdkError(name)
    const mapped = toProxyError(err)
    assert.equal(mapped.code, code, name)
    assert.equal(mapped.cause, err, `${name}: the raw error is kept for the log`)
    if (code !== 'upstream_rejected') assert.ok(!mapped.message.includes('123456789012'), `${name}: ${mapped.message}`)
  }
})

test('ValidationException: Bedrock\'s message passes, trimmed to 500 characters; an empty one gives the catalogue\'s', () => {
  assert.equal(toProxyError(sdkError('ValidationException', 'maxTokens must be <= 4096')).message, 'maxTokens must be <= 4096')
  assert.equal(toProxyError(sdkError('ValidationException', 'x'.repeat(600))).message, 'x'.repeat(500))
  assert.equal(toProxyError(sdkError('ValidationException', '')).message, 'Bedrock rejected the request.')
})

test('Retry-After in seconds becomes retryAfterMs on throttled and unavailable answers', () => {
  assert.equal(toProxyError(sdkError('ThrottlingException', 'slow down', { 'retry-after': '2' })).retryAfterMs, 2000)
  assert.equal(toProxyError(sdkError('ServiceUnavailableException', 'busy', { 'retry-after': '0.25' })).retryAfterMs, 250)
  assert.equal(toProxyError(sdkError('ThrottlingException', 'slow down', { 'retry-after': '0' })).retryAfterMs, 0)
  assert.equal(toProxyError(sdkError('ThrottlingException', 'slow down')).retryAfterMs, undefined, 'no header, no hint')
  assert.equal(toProxyError(sdkError('ThrottlingException', 'slow down', { 'retry-after': 'soon' })).retryAfterMs, undefined, 'garbage is ignored')
  assert.equal(toProxyError(sdkError('AccessDeniedException', 'no', { 'retry-after': '5' })).retryAfterMs, undefined, 'not retryable: no hint')
})

test('Retry-After as an HTTP date is the time until then, never negative', (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: Date.parse('Wed, 21 Oct 2026 07:28:00 GMT') })
  assert.equal(toProxyError(sdkError('ThrottlingException', 'x', { 'retry-after': 'Wed, 21 Oct 2026 07:28:30 GMT' })).retryAfterMs, 30_000)
  assert.equal(toProxyError(sdkError('ThrottlingException', 'x', { 'retry-after': 'Wed, 21 Oct 2026 07:00:00 GMT' })).retryAfterMs, 0)
  assert.equal(toProxyError(sdkError('ThrottlingException', 'x', { 'retry-after': '-5' })).retryAfterMs, 0, 'a negative number is read as a date')
})

test('a connection that could not be made, anywhere in the cause chain, is upstream_unavailable', () => {
  for (const code of ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']) {
    const socket = Object.assign(new Error(`connect ${code}`), { code })
    const h2 = Object.assign(new Error('stream cancelled', { cause: socket }), { code: 'ERR_HTTP2_STREAM_CANCEL' })
    assert.equal(toProxyError(socket).code, 'upstream_unavailable', code)
    assert.equal(toProxyError(h2).code, 'upstream_unavailable', `${code} under ERR_HTTP2_STREAM_CANCEL`)
  }
  // Deeper than five causes is not searched (a cycle must not loop forever).
  const cyclic: { code: string, cause?: unknown } = { code: 'ERR_X' }
  cyclic.cause = cyclic
  assert.equal(toProxyError(cyclic).code, 'upstream_error')
})

test('a broken connection (reset, h2 errors) or anything unknown is upstream_error', () => {
  assert.equal(toProxyError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })).code, 'upstream_error')
  assert.equal(toProxyError(sdkError('SomethingNewException')).code, 'upstream_error')
  for (const odd of [undefined, null, 'a string', 42, {}]) assert.equal(toProxyError(odd).code, 'upstream_error', String(odd))
})

test('when we aborted the call, the abort reason wins over whatever the SDK threw', () => {
  const reason = new ProxyError('upstream_timeout', { message: 'no event within 200 ms' })
  const ac = new AbortController()
  ac.abort(reason)
  assert.equal(toProxyError(sdkError('ThrottlingException'), ac.signal), reason)
  const plain = new AbortController()
  plain.abort() // a DOMException reason: not ours, so the error itself decides
  assert.equal(toProxyError(sdkError('ThrottlingException'), plain.signal).code, 'upstream_throttled')
  assert.equal(toProxyError(sdkError('ThrottlingException'), new AbortController().signal).code, 'upstream_throttled')
})

test('a ProxyError passes through unchanged', () => {
  const err = new ProxyError('upstream_truncated')
  assert.equal(toProxyError(err), err)
})

test('logLevelOf: 5xx is an error, except shutting_down; 4xx is a warning', () => {
  assert.equal(logLevelOf(new ProxyError('upstream_error')), 'error')
  assert.equal(logLevelOf(new ProxyError('upstream_credentials')), 'error')
  assert.equal(logLevelOf(new ProxyError('internal')), 'error')
  assert.equal(logLevelOf(new ProxyError('shutting_down')), 'warn')
  assert.equal(logLevelOf(new ProxyError('upstream_throttled')), 'warn')
  assert.equal(logLevelOf(new ProxyError('cancelled')), 'warn')
  assert.equal(logLevelOf(new ProxyError('upstream_rejected')), 'warn')
})
