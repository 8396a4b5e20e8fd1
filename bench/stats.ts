// Percentiles and the two-point fit of CPU time: pure functions over measured samples.

export interface Percentiles { p50: number, p90: number, p99: number, max: number, count: number }

/** Nearest-rank percentiles of unsorted samples; NaN when there are none. */
export function summarize (samples: readonly number[]): Percentiles {
  const sorted = Float64Array.from(samples).sort()
  const at = (p: number): number => sorted.length === 0 ? Number.NaN : (sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1] ?? Number.NaN)
  return { p50: at(50), p90: at(90), p99: at(99), max: sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] ?? Number.NaN), count: sorted.length }
}

export interface CpuPoint {
  /** CPU seconds the process used in the window. */
  cpuS: number
  /** Streams started in the window. */
  streams: number
  /** Tokens received in the window. */
  tokens: number
}

export interface CpuFit {
  /** CPU per stream set-up (the intercept), ms. */
  msPerStream: number
  /** CPU per token (the slope), us. */
  usPerToken: number
}

/**
 * Two runs at one concurrency with different stream lengths: CPU per stream = a + b x
 * tokens per stream. The slope b is the cost of a token, the intercept a the cost of a
 * stream with no token (set-up, upstream call, end). Undefined when the two runs cannot
 * separate them (no stream, or the same length).
 */
export function fitCpu (short: CpuPoint, long: CpuPoint): CpuFit | undefined {
  if (short.streams === 0 || long.streams === 0) return undefined
  const x1 = short.tokens / short.streams
  const x2 = long.tokens / long.streams
  if (Math.abs(x2 - x1) < 1e-9) return undefined
  const y1 = short.cpuS / short.streams
  const y2 = long.cpuS / long.streams
  const slope = (y2 - y1) / (x2 - x1)
  return { msPerStream: (y1 - slope * x1) * 1000, usPerToken: slope * 1e6 }
}
