// One blocking Redis connection per instance, shared by every reader that follows a
// stream produced by another instance (issue 7: a connection per follower took one
// Redis from 5 to 305 clients with 300 followers). Readers fetch entries themselves
// (XRANGE on the shared client); when they have caught up they wait here, and one
// `XREAD BLOCK` over all the followed streams wakes them when any of theirs grows.
// A reader that joins a stream the blocked XREAD does not cover interrupts it with
// CLIENT UNBLOCK, so it is covered at once instead of after the block times out.
import type { Redis } from 'ioredis'

/** `new`: the stream has entries after the waiter's position; `idle`: a whole block passed without one. */
export type TailWake = 'new' | 'idle' | 'aborted'

interface Waiter {
  afterSeq: number
  since: number
  settle: (wake: TailWake) => void
  fail: (err: unknown) => void
}

export class RedisTail {
  readonly #redis: Redis
  readonly #blockMs: number
  readonly #waiters = new Map<string, Set<Waiter>>()
  #conn: Redis | undefined
  #connId: number | undefined
  /** Streams and positions of the XREAD in flight. */
  #cycle: Map<string, number> | undefined
  #running = false

  constructor (redis: Redis, blockMs: number) {
    this.#redis = redis
    this.#blockMs = blockMs
  }

  /**
   * Waits until stream `key` has an entry after `afterSeq` ('new'), or a block passed
   * without one ('idle': the caller checks that the producer is alive), or `signal`
   * aborts. Rejects when Redis fails.
   */
  async wait (key: string, afterSeq: number, signal: AbortSignal): Promise<TailWake> {
    if (signal.aborted) return 'aborted'
    return await new Promise<TailWake>((resolve, reject) => {
      const set = this.#waiters.get(key) ?? new Set<Waiter>()
      const done = (): void => {
        set.delete(waiter)
        if (set.size === 0 && this.#waiters.get(key) === set) this.#waiters.delete(key)
        signal.removeEventListener('abort', onAbort)
      }
      const waiter: Waiter = {
        afterSeq,
        since: Date.now(),
        settle: (wake) => { done(); resolve(wake) },
        fail: (err) => { done(); reject(err) },
      }
      const onAbort = (): void => waiter.settle('aborted')
      signal.addEventListener('abort', onAbort, { once: true })
      set.add(waiter)
      this.#waiters.set(key, set)
      const covered = this.#cycle?.get(key)
      if (this.#cycle !== undefined && (covered === undefined || afterSeq < covered)) this.#interrupt()
      if (!this.#running) this.#run().catch(() => {})
    })
  }

  close (): void {
    for (const set of this.#waiters.values()) for (const w of [...set]) w.settle('aborted')
    this.#conn?.disconnect()
    this.#conn = undefined
  }

  #connection (): Redis {
    if (this.#conn === undefined) {
      // The block plus the shared client's own command timeout (redis.ts): a blocked read is not a stall.
      const conn = this.#redis.duplicate({ enableOfflineQueue: true, commandTimeout: this.#blockMs + (this.#redis.options.commandTimeout ?? 2000) })
      conn.on('error', () => {}) // failures surface as rejected commands
      conn.on('close', () => { this.#connId = undefined })
      this.#conn = conn
    }
    return this.#conn
  }

  /** Makes the blocked XREAD return now (as if it timed out), to start one that covers every waiter. */
  #interrupt (): void {
    if (this.#connId === undefined) return
    this.#redis.client('UNBLOCK', this.#connId).catch(() => {})
  }

  async #run (): Promise<void> {
    this.#running = true
    try {
      while (this.#waiters.size > 0) {
        const conn = this.#connection()
        const keys = [...this.#waiters.keys()]
        const positions = keys.map(key => Math.min(...[...(this.#waiters.get(key) ?? [])].map(w => w.afterSeq)))
        let ready: Set<string>
        try {
          this.#connId ??= Number(await conn.client('ID'))
          this.#cycle = new Map(keys.map((key, i) => [key, positions[i] as number]))
          const reply = await conn.xread('COUNT', 1, 'BLOCK', this.#blockMs, 'STREAMS', ...keys, ...positions.map(seq => `0-${seq}`)) as Array<[string, unknown]> | null
          ready = new Set((reply ?? []).map(([key]) => key))
        } catch (err) {
          for (const key of keys) for (const w of [...(this.#waiters.get(key) ?? [])]) w.fail(err)
          continue
        } finally {
          this.#cycle = undefined
        }
        const now = Date.now()
        for (const key of keys) {
          for (const w of [...(this.#waiters.get(key) ?? [])]) {
            if (ready.has(key)) w.settle('new')
            // Waiters that joined during this block stay for the next one.
            else if (now - w.since >= this.#blockMs) w.settle('idle')
          }
        }
      }
    } finally {
      this.#running = false
    }
  }
}
