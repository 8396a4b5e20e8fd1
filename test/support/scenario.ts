// Watching the emulator play: how far into a scenario it has got. Backpressure tests count
// the frames Bedrock was made to send, rather than timing anything.
import type { Scenario } from '../../src/emulator/index.js'
import { eventually } from './wait.js'

export interface CountedScenario {
  scenario: Scenario
  /** How many steps the emulator has taken from the scenario so far. */
  played: () => number
}

/** Wraps `scenario` so that every step the emulator reads is counted (it reads one step, then plays it). */
export function countPlayed (scenario: Scenario): CountedScenario {
  let highest = -1
  const steps = new Proxy(scenario.steps, {
    get (target, prop, receiver) {
      if (typeof prop === 'string' && /^\d+$/.test(prop)) highest = Math.max(highest, Number(prop))
      return Reflect.get(target, prop, receiver) as unknown
    },
  })
  return { scenario: { ...scenario, steps }, played: () => highest + 1 }
}

/** Resolves once `played()` has stopped moving for `polls` polls in a row (the producer is held back). */
export async function untilStalled (played: () => number, polls = 5, ms = 10_000): Promise<number> {
  let last = -1
  let same = 0
  await eventually(() => {
    const now = played()
    same = now === last ? same + 1 : 0
    last = now
    return same >= polls
  }, ms, 'a stalled producer')
  return last
}
