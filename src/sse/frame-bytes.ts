// The bytes of an SSE frame that a replay buffer keeps for the stream's whole life (and
// its TTL after). Buffer.from(string) slices small strings out of Node's shared pool,
// 64 KiB on Node 24: one long-lived frame made between short-lived allocations (HTTP,
// signing, JSON) keeps its whole slab of garbage alive. 10,000 streams waiting on a slow
// first token each held a `start` frame that way: about 3 KiB of RSS per stream (issue
// 10). Frames get slabs of their own here, filled only with frames, so a held frame
// costs its own bytes.

// Small: a slab lives until its last frame goes, and frames of streams that end at
// different times share one.
const SLAB_BYTES = 8 * 1024
/** Frames this big get an ArrayBuffer of their own (as Buffer.from does past half its pool). */
const OWN_BUFFER_BYTES = SLAB_BYTES / 4

let slab = Buffer.allocUnsafeSlow(SLAB_BYTES)
let used = 0

export function frameBytes (text: string): Buffer {
  const length = Buffer.byteLength(text)
  if (length >= OWN_BUFFER_BYTES) {
    const own = Buffer.allocUnsafeSlow(length)
    own.write(text)
    return own
  }
  if (length > SLAB_BYTES - used) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES)
    used = 0
  }
  const bytes = slab.subarray(used, used + length)
  bytes.write(text)
  used += length
  return bytes
}
