// The /metrics listener on METRICS_PORT: a bare node:http server (one route, no plugins),
// so a scrape never meets the main port's auth, rate limits or overload refusals, and the
// port can stay off the public load balancer. Closed with the app.
import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ProxyError } from '../errors.js'

export interface Exposition { contentType: string, body: string }

export interface MetricsServerOptions {
  host: string
  port: number
  token: string | undefined
  render: () => Promise<Exposition>
  log: { error: (obj: object, msg: string) => void }
}

export interface MetricsServer {
  url: string
  close: () => Promise<void>
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest()

/**
 * `Authorization: Bearer <token>`, compared in constant time: both sides are hashed first,
 * so neither the content nor the length of the token leaks through timing.
 */
export function bearerMatches (header: string | undefined, token: string): boolean {
  const match = header !== undefined && header.length <= 4096 ? /^Bearer +(\S+) *$/i.exec(header) : null
  return timingSafeEqual(digest(match?.[1] ?? ''), digest(token)) && match !== null
}

export function sendError (res: ServerResponse, failure: ProxyError, headers: Record<string, string> = {}): void {
  res.writeHead(failure.status, { 'content-type': 'application/json; charset=utf-8', ...headers })
  res.end(JSON.stringify(failure.toBody()))
}

export const UNAUTHORIZED_HEADERS = { 'www-authenticate': 'Bearer realm="metrics"' }

export async function startMetricsServer (opts: MetricsServerOptions): Promise<MetricsServer> {
  const server = createServer(function serveMetrics (req: IncomingMessage, res: ServerResponse) {
    const path = (req.url ?? '').split('?')[0]
    if (req.method !== 'GET' || path !== '/metrics') return sendError(res, new ProxyError('not_found', { message: 'Only GET /metrics is served on this port.' }))
    if (opts.token !== undefined && !bearerMatches(req.headers.authorization, opts.token)) {
      return sendError(res, new ProxyError('unauthorized', { message: 'Send the metrics token as "Authorization: Bearer <token>".' }), UNAUTHORIZED_HEADERS)
    }
    opts.render().then(({ contentType, body }) => {
      res.writeHead(200, { 'content-type': contentType })
      res.end(body)
    }, (err: unknown) => {
      opts.log.error({ err }, 'metrics rendering failed')
      sendError(res, new ProxyError('internal'))
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port, opts.host, () => { server.off('error', reject); resolve() })
  })
  const { address, port } = server.address() as AddressInfo
  const host = address.includes(':') ? `[${address}]` : address
  return {
    url: `http://${host}:${port}`,
    close: async () => {
      const closed = new Promise<void>(resolve => server.close(() => resolve()))
      server.closeAllConnections() // a scraper's keep-alive connection must not hold shutdown
      await closed
    },
  }
}
