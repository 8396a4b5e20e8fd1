// Every error answered before a stream starts becomes { error: { code, message } } with
// the catalogue's status. Fastify's own 4xx (validation, body parsing, size) keep their
// safe messages; anything unexpected is `internal` with a generic message and the
// details in the log only.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ProxyError } from '../errors.js'

// When Bedrock gives no Retry-After, a conservative hint so clients back off at all.
const DEFAULT_RETRY_AFTER_S = 5

export function toPublicError (err: FastifyError | ProxyError | Error): ProxyError {
  if (err instanceof ProxyError) return err
  const fe = err as FastifyError
  if (fe.validation !== undefined) {
    return new ProxyError('bad_request', { message: fe.message, cause: err })
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

export function registerErrorHandler (app: FastifyInstance): void {
  app.setErrorHandler(function handleError (err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
    const failure = toPublicError(err)
    if (failure.code === 'internal') request.log.error({ err }, 'unhandled error')
    if (failure.status === 429 || failure.status === 503) {
      const retryAfterS = failure.retryAfterMs !== undefined ? Math.ceil(failure.retryAfterMs / 1000) : DEFAULT_RETRY_AFTER_S
      reply.header('retry-after', String(retryAfterS))
    }
    return reply.code(failure.status).send(failure.toBody())
  })

  app.setNotFoundHandler(function handleNotFound (request: FastifyRequest, reply: FastifyReply) {
    const failure = new ProxyError('not_found', { message: `No route ${request.method} ${request.url.split('?')[0] ?? ''}.` })
    return reply.code(404).send(failure.toBody())
  })
}
