// prom-client's default metrics (CPU, memory, heap spaces, GC, handles, event-loop lag)
// describe the process, not one app: they are collected once per process into their own
// registry. Per-app collection would leave an event-loop histogram and a GC observer
// behind for every app built (prom-client never disables them), and tests build hundreds.
import { collectDefaultMetrics, Registry } from 'prom-client'

let shared: Registry | undefined

export function processRegistry (): Registry {
  if (shared === undefined) {
    shared = new Registry()
    collectDefaultMetrics({ register: shared })
  }
  return shared
}
