// One timer for "nothing happened for `ms`": touch() on every event is a clock read, not
// a timer re-armed per event; the timer is re-armed only when it fires (to the time left,
// or for another `ms` after calling onIdle). Used for SSE heartbeats and for the
// upstream idle deadline, the two timers every stream has.
export class IdleClock {
  readonly #ms: number
  readonly #onIdle: () => void
  #last = Date.now()
  #timer: NodeJS.Timeout

  constructor (ms: number, onIdle: () => void) {
    this.#ms = ms
    this.#onIdle = onIdle
    this.#timer = setTimeout(this.#fire, ms)
  }

  touch (): void {
    this.#last = Date.now()
  }

  stop (): void {
    clearTimeout(this.#timer)
  }

  readonly #fire = (): void => {
    const idle = Date.now() - this.#last
    if (idle >= this.#ms) {
      this.#last = Date.now()
      this.#timer = setTimeout(this.#fire, this.#ms)
      this.#onIdle()
    } else {
      this.#timer = setTimeout(this.#fire, this.#ms - idle)
    }
  }
}
