// A bound on the request bodies being received at once, across every request
// (BODIES_IN_FLIGHT_MAX_BYTES). Bodies are read before any limit that knows the caller
// runs, so without it many slow or stalled uploads hold memory outside every cap
// (issue 7: 300 stalled 1 MB bodies took the process from 89 to 377 MiB). The bytes of a
// body count from its first chunk until it is fully received or its request closes;
// REQUEST_TIMEOUT_MS ends a stalled one.
import { Transform, type TransformCallback } from 'node:stream'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ProxyError } from '../errors.js'

const RETRY_AFTER_MS = 1000

export function registerBodiesInFlight (app: FastifyInstance, maxBytes: number): void {
  let inFlight = 0

  app.addHook('preParsing', async function meterBody (request: FastifyRequest, _reply: FastifyReply, payload) {
    // No body (RFC 9112 6.3: neither Content-Length nor Transfer-Encoding), nothing to meter:
    // a waiting GET stream would otherwise keep a Transform and its listeners for its whole
    // life (about 2 KiB each, issue 10).
    const { headers } = request
    if (headers['transfer-encoding'] === undefined && (headers['content-length'] === undefined || headers['content-length'] === '0')) return payload
    let counted = 0
    const release = (): void => {
      inFlight -= counted
      counted = 0
    }
    request.raw.once('close', release)
    const meter = new Transform({
      transform (chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
        if (inFlight + chunk.length > maxBytes) {
          release()
          callback(new ProxyError('server_busy', { message: 'The server is receiving too many request bodies at once; retry shortly.', retryAfterMs: RETRY_AFTER_MS }))
          return
        }
        inFlight += chunk.length
        counted += chunk.length
        callback(null, chunk)
      },
      flush (callback: TransformCallback) {
        release()
        callback()
      },
    })
    // pipe, not pipeline: on a refusal the request must stay open for the 503 to be sent
    // (the error handler then closes the connection, the rest of the body unread).
    return payload.pipe(meter)
  })
}
