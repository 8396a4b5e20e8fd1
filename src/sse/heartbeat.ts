// Interleaves a heartbeat into an async sequence: when the source has produced nothing
// for `intervalMs` (a slow first token, a long tool call), `ping` is yielded and the
// same pending `next()` is awaited again. Nothing is pulled ahead of the consumer, so
// backpressure still reaches the source.

export async function * withHeartbeat<T> (
  source: AsyncIterable<T>, intervalMs: number, ping: () => T
): AsyncGenerator<T, void, undefined> {
  const iterator = source[Symbol.asyncIterator]()
  let pending: Promise<IteratorResult<T>> | undefined
  try {
    while (true) {
      pending ??= iterator.next()
      const result = await raceTimer(pending, intervalMs)
      if (result === TIMEOUT) {
        yield ping()
        continue
      }
      pending = undefined
      if (result.done === true) return
      yield result.value
    }
  } finally {
    // Not awaited: a source still waiting on the network finishes once its own abort
    // signal fires; the consumer must not wait for that.
    iterator.return?.(undefined).catch(() => {})
  }
}

const TIMEOUT = Symbol('timeout')

async function raceTimer<T> (promise: Promise<T>, ms: number): Promise<T | typeof TIMEOUT> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<typeof TIMEOUT>(resolve => { timer = setTimeout(resolve, ms, TIMEOUT) })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}
