// One TCP port, two protocols. The AWS SDK (>= 3.798) speaks cleartext HTTP/2 with prior knowledge
// to an http:// endpoint (RFC 9113 section 3.3); curl and fetch speak HTTP/1.1. We read the first
// bytes of each connection: the HTTP/2 client preface goes to an http2 server, anything else to an
// http server, with the bytes pushed back (unshift) so the chosen server parses them itself.
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import http2, { type Http2ServerRequest, type Http2ServerResponse } from 'node:http2'
import net, { type Socket } from 'node:net'

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1')

export type RequestHandler = (
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
  protocol: 'h2' | 'http/1.1'
) => void

export interface DualServer {
  server: net.Server
  /** Destroys every connection (h2 sessions die with their socket) and stops listening. */
  close (): Promise<void>
}

/** @param h2MaxConcurrentStreams what the HTTP/2 side advertises (SETTINGS_MAX_CONCURRENT_STREAMS); Node's default when undefined. */
export function createDualServer (handler: RequestHandler, onError: (err: Error) => void, h2MaxConcurrentStreams?: number): DualServer {
  const sockets = new Set<Socket>()
  const h1 = http.createServer((req, res) => handler(req, res, 'http/1.1'))
  const h2Options = h2MaxConcurrentStreams !== undefined ? { settings: { maxConcurrentStreams: h2MaxConcurrentStreams } } : {}
  const h2 = http2.createServer(h2Options, (req, res) => handler(req, res, 'h2'))
  // Protocol errors from odd clients must not crash the process; they only end that connection.
  h1.on('clientError', (err: Error, socket: Socket) => { onError(err); socket.destroy() })
  h2.on('sessionError', onError)

  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy()) // ECONNRESET from clients that just vanish
    let seen = Buffer.alloc(0)
    const onData = (chunk: Buffer): void => {
      seen = Buffer.concat([seen, chunk])
      const n = Math.min(seen.length, H2_PREFACE.length)
      const isPrefix = seen.subarray(0, n).equals(H2_PREFACE.subarray(0, n))
      if (isPrefix && seen.length < H2_PREFACE.length) return // need more bytes to decide
      socket.off('data', onData)
      socket.pause()
      socket.unshift(seen)
      if (isPrefix) {
        // Http2Session reads what is buffered on the socket (socket.read()) on its next tick, then
        // takes over the handle. Resuming here would flow those bytes to nobody.
        h2.emit('connection', socket)
      } else {
        h1.emit('connection', socket)
        socket.resume() // we paused explicitly, so the http server's 'data' listener alone won't
      }
    }
    socket.on('data', onData)
  })

  const close = (): Promise<void> => new Promise((resolve) => {
    server.close(() => resolve())
    for (const socket of sockets) socket.destroy()
  })
  return { server, close }
}
