// One timer for "nothing happened for `ms`": touch() on every event is a clock read, not
// a timer re-armed per event; the timer is re-armed only when it fires (to the time left,
// or for another `ms` after calling onIdle). Used for SSE heartbeats and for the
// upstream idle deadline, the two timers every stream has.
//
// `onIdle` is called with `target`: a caller with many clocks passes one shared function
// and the object it concerns, so a clock costs no closure of its own (10,000 waiting
// streams hold 20,000 clocks, issue 10). The timer gets the clock as its argument for the
// same reason.
export class IdleClock<T = undefined> {
  readonly #ms: number
  // Stored without T: the static timer callback below serves clocks of every T.
  readonly #onIdle: (target: unknown) => void
  readonly #target: unknown
  #last = Date.now()
  #timer: NodeJS.Timeout

  constructor (ms: number, onIdle: (target: T) => void, target?: T) {
    this.#ms = ms
    this.#onIdle = onIdle as (target: unknown) => void
    this.#target = target
    this.#timer = setTimeout(IdleClock.#fire, ms, this)
  }

  touch (): void {
    this.#last = Date.now()
  }

  stop (): void {
    clearTimeout(this.#timer)
  }

  static #fire (this: void, clock: IdleClock<unknown>): void {
    const idle = Date.now() - clock.#last
    if (idle >= clock.#ms) {
      clock.#last = Date.now()
      clock.#timer = setTimeout(IdleClock.#fire, clock.#ms, clock)
      clock.#onIdle(clock.#target)
    } else {
      clock.#timer = setTimeout(IdleClock.#fire, clock.#ms - idle, clock)
    }
  }
}
