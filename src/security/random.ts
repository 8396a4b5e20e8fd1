// Random identifiers for the hot path (stream ids, slot ids). crypto.randomBytes makes a
// call into the OpenSSL RNG and a new Buffer for every id, about 4.5 us for 12 bytes;
// per stream that was two of them (issue 10). Drawing the bytes from a pool filled 4 KiB
// at a time by the same CSPRNG costs about 0.2 us: the same unpredictability, as Node's
// own crypto.randomUUID does with its pool. Bytes are used once and never handed out twice.
import { randomFillSync } from 'node:crypto'

const POOL_BYTES = 4096
const pool = Buffer.alloc(POOL_BYTES)
let offset = POOL_BYTES

function take (bytes: number): number {
  if (bytes > POOL_BYTES) throw new RangeError(`at most ${POOL_BYTES} random bytes at a time`)
  if (offset + bytes > POOL_BYTES) {
    randomFillSync(pool)
    offset = 0
  }
  const start = offset
  offset += bytes
  return start
}

/** `bytes` random bytes as lowercase hex (2 characters each). */
export function randomHex (bytes: number): string {
  const start = take(bytes)
  return pool.toString('hex', start, start + bytes)
}

/** `bytes` random bytes as base64url, no padding. */
export function randomBase64url (bytes: number): string {
  const start = take(bytes)
  return pool.toString('base64url', start, start + bytes)
}
