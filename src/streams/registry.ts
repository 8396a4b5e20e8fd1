// The open responses of this instance (SSE readers and Converse calls), for /readyz and
// for shutdown: fastify.close() would otherwise wait forever on open SSE responses
// (FIELD-NOTES 11), so shutdown tells each one to wind down and waits, bounded, for them.
import type { ServerResponse } from 'node:http'
import { randomHex } from '../security/random.js'

/** 24 hex characters: unguessable, and safe inside an SSE `id:` (see sse/format.ts). */
export function newStreamId (): string {
  return randomHex(12)
}

const NOTHING = (): void => {}

export class StreamRegistry {
  /** Each open response, with what it does when shutdown begins. */
  readonly #open = new Map<ServerResponse, () => void>()
  #drained: (() => void) | undefined
  /** One `close` listener for every response (it is the emitter): no closure per response (issue 10). */
  readonly #untrack: (this: ServerResponse) => void

  constructor () {
    const open = this.#open
    const registry = this
    this.#untrack = function untrack () {
      open.delete(this)
      if (open.size === 0) registry.#drained?.()
    }
  }

  /** Tracks a response until it closes (finished, or the client left). */
  track (response: ServerResponse, onShutdown: () => void = NOTHING): void {
    this.#open.set(response, onShutdown)
    response.once('close', this.#untrack)
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
    for (const onShutdown of this.#open.values()) onShutdown()
    if (this.#open.size === 0) return
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      new Promise<void>(resolve => { this.#drained = resolve }),
      new Promise<void>(resolve => { timer = setTimeout(resolve, graceMs) }),
    ])
    clearTimeout(timer)
    for (const response of this.#open.keys()) response.destroy()
  }
}
