// The pino logger of the proxy. Request lines carry the path without its query string
// (FIELD-NOTES 13): GET /v1/converse-stream?prompt=... would otherwise log the prompt,
// and later a ?ticket=. Headers that hold credentials are never serialised.
import { pino, type DestinationStream, type Logger } from 'pino'
import type { FastifyRequest } from 'fastify'

export function pathOnly (url: string | undefined): string {
  if (url === undefined) return ''
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}

export const serializers = {
  req (req: FastifyRequest) {
    return {
      method: req.method,
      url: pathOnly(req.url),
      remoteAddress: req.ip,
      ...(typeof req.headers['user-agent'] === 'string' ? { userAgent: req.headers['user-agent'] } : {}),
    }
  },
}

export function createLogger (level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    serializers: { ...pino.stdSerializers, ...serializers },
    // Key paths only (pino redact cannot match inside strings): defence in depth for
    // anything that logs a raw request or SDK config by mistake.
    redact: {
      paths: [
        'req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'headers.cookie', '*.secretAccessKey', '*.sessionToken', 'credentials',
        // Tickets are credentials too (issue 4); the auth plugin also deletes them from request.query.
        'ticket', '*.ticket', '*.*.ticket', 'query.ticket', 'req.query',
      ],
      censor: '[redacted]',
    },
  }
  return destination === undefined ? pino(options) : pino(options, destination)
}
