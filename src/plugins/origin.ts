// Server-side origin enforcement. CORS only hides the answer from a page; the request
// itself still runs (FIELD-NOTES 19), so a /v1/* request whose Origin is neither in
// CORS_ORIGINS nor this server's own origin is refused before anything else, Bedrock
// included. Requests without Origin (curl, servers, same-origin GETs) pass; they are
// authentication's business.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { ProxyError } from '../errors.js'
import { isLoopbackHost } from '../security/settings.js'

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443' }

/** host[:port] with the scheme's default port made explicit, lowercase. */
function hostWithPort (host: string, protocol: string): string {
  const lower = host.toLowerCase()
  return /:\d+$/.test(lower) ? lower : `${lower}:${DEFAULT_PORTS[protocol] ?? ''}`
}

/** Same host and port as the Host the request was sent to (the demo page's own POSTs). */
export function isSameOrigin (origin: string, host: string | undefined): boolean {
  if (host === undefined || host === '') return false
  try {
    const url = new URL(origin)
    // The scheme is not compared: behind a TLS-terminating proxy this server sees http.
    return hostWithPort(url.host, url.protocol) === hostWithPort(host, url.protocol)
  } catch {
    return false
  }
}

function hostnameOf (host: string): string {
  return host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '')
}

export async function registerOriginCheck (app: FastifyInstance): Promise<void> {
  const config = app.proxyConfig
  // PUBLIC_ORIGIN: this server's own origin as browsers see it, behind a proxy that rewrites Host.
  const opts = { publicOrigin: config.publicOrigin, authMode: config.security.authMode }
  const allowed = new Set(config.corsOrigins)
  app.addHook('onRequest', async function checkOrigin (request: FastifyRequest) {
    const host = request.headers.host
    // Anonymous on loopback trusts "only this machine can connect". DNS rebinding breaks
    // that: a web page whose name resolves to 127.0.0.1 is same-origin with itself. Its
    // requests carry its own name in Host, so only loopback names are served.
    if (opts.authMode === 'loopback' && host !== undefined && !isLoopbackHost(hostnameOf(host))) {
      throw new ProxyError('forbidden_origin', { message: 'This server answers only to a loopback Host (127.0.0.1, localhost, [::1]) while it runs without API keys.' })
    }
    const origin = request.headers.origin
    // request.host: X-Forwarded-Host when TRUST_PROXY trusts the hop that set it. A proxy
    // that forwards no host (nginx's plain proxy_pass sends the upstream's name,
    // FIELD-NOTES 23) needs PUBLIC_ORIGIN, compared exactly, scheme included.
    if (origin === undefined || allowed.has(origin) || origin === opts.publicOrigin || isSameOrigin(origin, request.host)) return
    throw new ProxyError('forbidden_origin')
  })
}
