// Watching the emulator play: how far into a scenario it has got. Backpressure tests count
// the frames Bedrock was made to send, rather than timing anything.
import type { Emulator } from '../../src/emulator/index.js'
import { eventually } from './wait.js'

/** Frames the emulator has written for its request `id` (1-based) so far; 0 before it arrives. */
export function framesSent (emulator: Emulator, id = 1): () => number {
  return () => emulator.requests.find(r => r.id === id)?.frames ?? 0
}

/** Resolves once `played()` has started and then stopped moving for `polls` polls in a row (the producer is held back). */
export async function untilStalled (played: () => number, polls = 5, ms = 10_000): Promise<number> {
  let last = -1
  let same = 0
  await eventually(() => {
    const now = played()
    same = now === last ? same + 1 : 0
    last = now
    return same >= polls && now > 0
  }, ms, 'a stalled producer')
  return last
}
