// The open upstream calls of this instance, each with the AbortController that cancels
// it. Shutdown ends them all with `shutting_down` (fastify.close() would otherwise wait
// forever on open SSE responses, FIELD-NOTES 11); /readyz reports the count.
import { randomBytes } from 'node:crypto'
import type { ProxyError } from './errors.js'

/** 24 hex characters: unguessable, and safe inside an SSE `id:` (see sse/format.ts). */
export function newStreamId (): string {
  return randomBytes(12).toString('hex')
}

export class StreamRegistry {
  readonly #open = new Map<string, AbortController>()

  open (id: string): AbortController {
    const controller = new AbortController()
    this.#open.set(id, controller)
    return controller
  }

  release (id: string): void {
    this.#open.delete(id)
  }

  get size (): number {
    return this.#open.size
  }

  abortAll (reason: ProxyError): void {
    for (const controller of this.#open.values()) controller.abort(reason)
  }
}
