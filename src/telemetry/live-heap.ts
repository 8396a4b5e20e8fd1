// The heap the process holds after V8 collects: what the heap bound judges (issue 10).
// heapUsed also counts garbage not yet collected: under a steady flow of streams V8 lets it
// grow to 1.4 times the live heap or more before a major GC, so a bound on heapUsed refused
// streams the process had room for (a 100 MiB heap with 1,000 clients: half of them). The
// reading is the heap right after the last major GC (mark-compact), as V8's GC profiler
// records it at the GC itself: a 'gc' PerformanceObserver runs hundreds of milliseconds
// late under load, and the heap read then has grown again. It cannot fall far behind a heap
// that fills with live objects: V8 runs the next major GC before the old generation grows
// past halfway from the last one's result to its limit.
import { GCProfiler } from 'node:v8'

// How often the profiler hands over what it recorded (it reports only when stopped).
const READ_EVERY_MS = 1000

interface GcRecord { gcType: string, afterGC: { heapStatistics: { usedHeapSize: number } } }

export class LiveHeap {
  #bytes = 0
  #profiler = new GCProfiler()
  readonly #timer: NodeJS.Timeout

  constructor () {
    this.#profiler.start()
    this.#timer = setInterval(() => this.#read(), READ_EVERY_MS)
    this.#timer.unref()
  }

  /** Heap in use right after the last major GC; 0 before the first. */
  get bytes (): number { return this.#bytes }

  stop (): void {
    clearInterval(this.#timer)
    this.#profiler.stop()
  }

  #read (): void {
    const records = (this.#profiler.stop()?.statistics ?? []) as GcRecord[]
    this.#profiler = new GCProfiler()
    this.#profiler.start()
    for (let i = records.length - 1; i >= 0; i--) {
      const record = records[i] as GcRecord
      if (record.gcType === 'MarkSweepCompact') {
        this.#bytes = record.afterGC.heapStatistics.usedHeapSize
        return
      }
    }
  }
}
