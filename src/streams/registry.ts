// The open responses of this instance (SSE readers and Converse calls), for /readyz and
// for shutdown: fastify.close() would otherwise wait forever on open SSE responses
// (FIELD-NOTES 11), so shutdown tells each one to wind down and waits, bounded, for them.
import { randomBytes } from 'node:crypto'
import type { ServerResponse } from 'node:http'

/** 24 hex characters: unguessable, and safe inside an SSE `id:` (see sse/format.ts). */
export function newStreamId (): string {
  return randomBytes(12).toString('hex')
}

interface OpenResponse {
  response: ServerResponse
  onShutdown: () => void
}

export class StreamRegistry {
  readonly #open = new Map<symbol, OpenResponse>()
  #drained: (() => void) | undefined

  /** Tracks a response until it closes (finished, or the client left). */
  track (response: ServerResponse, onShutdown: () => void): void {
    const key = Symbol('response')
    this.#open.set(key, { response, onShutdown })
    response.once('close', () => {
      this.#open.delete(key)
      if (this.#open.size === 0) this.#drained?.()
    })
  }

  get size (): number {
    return this.#open.size
  }

  /**
   * Tells every open response to wind down (each ends with its last events), waits up
   * to `graceMs` for them to finish, then destroys those still open (a client that
   * stopped reading), so shutdown is bounded.
   */
  async closeAll (graceMs: number): Promise<void> {
    for (const { onShutdown } of this.#open.values()) onShutdown()
    if (this.#open.size === 0) return
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      new Promise<void>(resolve => { this.#drained = resolve }),
      new Promise<void>(resolve => { timer = setTimeout(resolve, graceMs) }),
    ])
    clearTimeout(timer)
    for (const { response } of this.#open.values()) response.destroy()
  }
}
