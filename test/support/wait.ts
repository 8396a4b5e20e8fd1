// Waiting on a condition instead of sleeping: a test that waits for what it means is fast
// when the machine is fast and still right when it is slow.

/** Polls `check` (sync or async) until it returns true, or fails after `ms`. */
export async function eventually (check: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

/** Resolves after the current macrotask queue has run (lets promise chains and I/O callbacks settle). */
export async function nextTick (): Promise<void> {
  await new Promise(resolve => setImmediate(resolve))
}
