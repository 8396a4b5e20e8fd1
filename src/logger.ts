// The pino logger of the proxy. Request lines carry the path without its query string
// (FIELD-NOTES 13): GET /v1/converse-stream?prompt=... would otherwise log the prompt,
// and later a ?ticket=. Headers that hold credentials are never serialised.
import { pino, type DestinationStream, type Logger } from 'pino'
import type { FastifyRequest } from 'fastify'

const MAX_LOGGED_PATH = 200

/**
 * The path of a URL as the router reads it, without any query: percent-decoded first,
 * so `/v1/converse-stream%3Fprompt=...%26ticket=...` loses its query too (issue 7), and
 * cut short. Never the raw URL.
 */
export function safePath (url: string | undefined): string {
  if (url === undefined) return ''
  let path = url.slice(0, indexOrEnd(url, '?'))
  try {
    path = decodeURIComponent(path)
  } catch {} // malformed escapes: the raw path, still cut at its first '%3F' below
  path = path.slice(0, Math.min(indexOrEnd(path, '?'), indexOrEnd(path.toLowerCase(), '%3f')))
  return path.length > MAX_LOGGED_PATH ? `${path.slice(0, MAX_LOGGED_PATH)}...` : path
}

function indexOrEnd (text: string, search: string): number {
  const i = text.indexOf(search)
  return i === -1 ? text.length : i
}

export const serializers = {
  req (req: FastifyRequest) {
    return {
      method: req.method,
      // The route pattern when one matched (`/v1/streams/:streamId`), else the safe path.
      url: req.routeOptions?.url ?? safePath(req.url),
      remoteAddress: req.ip,
      ...(typeof req.headers['user-agent'] === 'string' ? { userAgent: req.headers['user-agent'] } : {}),
    }
  },
  // Fastify's Reply (pino's stdSerializers.res reads res.headersSent, which a Reply lacks,
  // and logged `"statusCode": null` on every line: FIELD-NOTES 21).
  res (reply: { statusCode: number }) {
    return { statusCode: reply.statusCode }
  },
}

export function createLogger (level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    serializers: { err: pino.stdSerializers.err, ...serializers },
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
