// The open upstream calls of this instance, each with the AbortController that cancels
// it and the response it writes to. Shutdown ends them all with `shutting_down`
// (fastify.close() would otherwise wait forever on open SSE responses, FIELD-NOTES 11);
// /readyz reports the count.
import { randomBytes } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import type { ProxyError } from './errors.js'

/** 24 hex characters: unguessable, and safe inside an SSE `id:` (see sse/format.ts). */
export function newStreamId (): string {
  return randomBytes(12).toString('hex')
}

interface OpenCall {
  controller: AbortController
  response: ServerResponse
}

export class StreamRegistry {
  readonly #open = new Map<string, OpenCall>()
  #drained: (() => void) | undefined

  /** Registers a call until its response closes (finished, or the client left). */
  open (id: string, response: ServerResponse): AbortController {
    const controller = new AbortController()
    this.#open.set(id, { controller, response })
    response.once('close', () => {
      this.#open.delete(id)
      if (this.#open.size === 0) this.#drained?.()
    })
    return controller
  }

  get size (): number {
    return this.#open.size
  }

  /**
   * Aborts every call with `reason`, which each stream reports as its last `error` event,
   * then waits up to `graceMs` for the responses to finish; those still open after that
   * (a client that stopped reading) are destroyed, so shutdown is bounded.
   */
  async closeAll (reason: ProxyError, graceMs: number): Promise<void> {
    for (const { controller } of this.#open.values()) controller.abort(reason)
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
