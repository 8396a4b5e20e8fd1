// Every error answered before a stream starts becomes { error: { code, message } } with
// the catalogue's status. Fastify's own 4xx (validation, body parsing, size) keep their
// safe messages; anything unexpected is `internal` with a generic message and the
// details in the log only. Errors that Node's HTTP parser and Fastify's router raise
// before a request exists (408, 431, a bad request line, a malformed URL) get the same
// body (issue 7).
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ProxyError, type ErrorCode } from '../errors.js'
import { safePath } from '../logger.js'
import { toOpenAIErrorBody } from '../openai/errors.js'

// When Bedrock gives no Retry-After, a conservative hint so clients back off at all.
const DEFAULT_RETRY_AFTER_S = 5

export function toPublicError (err: FastifyError | ProxyError | Error): ProxyError {
  if (err instanceof ProxyError) return err
  const fe = err as FastifyError
  if (fe.validation !== undefined) {
    const path = fe.validation[0]?.instancePath ?? ''
    const param = path.split('/').filter(Boolean).join('.')
    return new ProxyError('bad_request', { message: fe.message, cause: err, ...(param !== '' ? { param } : {}) })
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ProxyError('body_too_large', { cause: err })
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ProxyError('unsupported_media_type', { cause: err })
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    // Invalid JSON, empty body, bad headers: Fastify's messages say what is wrong and carry no secrets.
    return new ProxyError('bad_request', { message: fe.message, cause: err })
  }
  return new ProxyError('internal', { cause: err })
}

/**
 * Answers a refusal. A refusal that comes before the body was read (401, 403, 429 in
 * onRequest; a body past a bound) closes the connection afterwards: otherwise the client
 * could keep the socket by trickling the rest of a body it was refused for (issue 7).
 */
export function sendError (request: FastifyRequest, reply: FastifyReply, failure: ProxyError): FastifyReply {
  if (failure.status === 429 || failure.status === 503) {
    const retryAfterS = failure.retryAfterMs !== undefined ? Math.ceil(failure.retryAfterMs / 1000) : DEFAULT_RETRY_AFTER_S
    reply.header('retry-after', String(retryAfterS))
  }
  if (!request.raw.complete) reply.header('connection', 'close')
  const body = request.routeOptions.config.dialect === 'openai' ? toOpenAIErrorBody(failure) : failure.toBody()
  return reply.code(failure.status).send(body)
}

export function registerErrorHandler (app: FastifyInstance): void {
  app.setErrorHandler(function handleError (err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
    const failure = toPublicError(err)
    if (failure.code === 'internal') request.log.error({ err }, 'unhandled error')
    return sendError(request, reply, failure)
  })

  app.setNotFoundHandler(function handleNotFound (request: FastifyRequest, reply: FastifyReply) {
    return sendError(request, reply, new ProxyError('not_found', { message: `No route ${request.method} ${safePath(request.url)}.` }))
  })
}

/** Fastify's `frameworkErrors`: a URL the router cannot decode, a path parameter too long. */
export function answerFrameworkError (err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  sendError(request, reply, new ProxyError('bad_request', { message: 'The request URL is malformed.', cause: err }))
}

const CLIENT_ERRORS: Record<string, ErrorCode> = {
  ERR_HTTP_REQUEST_TIMEOUT: 'request_timeout',
  HPE_HEADER_OVERFLOW: 'headers_too_large',
}

/**
 * Fastify's `clientErrorHandler` (Node's 'clientError'): the request never got far enough
 * to have a reply, so the answer is written to the socket by hand, then the socket is
 * destroyed as Node itself does.
 */
export function answerClientError (this: { log: { debug: (obj: object, msg: string) => void } }, err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const failure = new ProxyError(CLIENT_ERRORS[err.code ?? ''] ?? 'bad_request', { cause: err })
  this.log.debug({ err: { code: err.code, message: err.message }, status: failure.status }, 'client error')
  if (socket.writable) {
    const body = JSON.stringify(failure.toBody())
    socket.write(`HTTP/1.1 ${failure.status} ${STATUS_CODES[failure.status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
  }
  socket.destroy()
}
