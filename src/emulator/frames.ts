// AWS event-stream binary framing (prelude, headers, payload, CRC32s) for ConverseStream responses.
// Header names and values are what the SDK's event-stream unmarshaller dispatches on
// (@smithy/core/event-streams getMessageUnmarshaller): `:message-type` event|exception,
// then `:event-type` or `:exception-type` names the ConverseStreamOutput union member.
import { crc32 } from 'node:zlib'
import { EventStreamCodec } from '@smithy/eventstream-codec'
import { fromUtf8, toUtf8 } from '@smithy/util-utf8'
import type { StreamExceptionType } from './scenario.js'

const codec = new EventStreamCodec(toUtf8, fromUtf8)

function stringHeader (value: string): { type: 'string', value: string } {
  return { type: 'string', value }
}

/** JSON with Uint8Array/Buffer as base64, the restJson1 encoding of blobs (e.g. redactedContent). */
export function toEventJson (payload: unknown): string {
  return JSON.stringify(payload, function (this: Record<string, unknown>, key, value: unknown) {
    // `this[key]` is the raw value: Buffer's toJSON has already run on `value`.
    const raw = this[key]
    return raw instanceof Uint8Array ? Buffer.from(raw).toString('base64') : value
  })
}

/** One `event` message: the body is the member's structure as JSON. */
export function encodeEventFrame (eventType: string, payload: unknown): Uint8Array {
  return frame(eventHeaders(eventType), Buffer.from(toEventJson(payload)))
}

// The benchmark's harness writes tens of thousands of frames a second on one core, and
// formatting the same three headers for each was a tenth of its CPU: the header block
// of each event type is encoded once, by the codec, and reused. Every test decodes
// these frames with the SDK's own codec (CRCs checked), which keeps this layout honest.
const headerBlocks = new Map<string, Buffer>()
const PRELUDE_BYTES = 12
const CRC_BYTES = 4

function eventHeaders (eventType: string): Buffer {
  let block = headerBlocks.get(eventType)
  if (block === undefined) {
    const empty = codec.encode({
      headers: {
        ':message-type': stringHeader('event'),
        ':event-type': stringHeader(eventType),
        ':content-type': stringHeader('application/json'),
      },
      body: new Uint8Array(0),
    })
    block = Buffer.from(empty.subarray(PRELUDE_BYTES, empty.byteLength - CRC_BYTES))
    if (headerBlocks.size < 64) headerBlocks.set(eventType, block)
  }
  return block
}

/** The event-stream message layout: total and headers length, prelude CRC, headers, body, message CRC. */
function frame (headers: Buffer, body: Buffer): Buffer {
  const total = PRELUDE_BYTES + headers.length + body.length + CRC_BYTES
  const out = Buffer.allocUnsafe(total)
  out.writeUInt32BE(total, 0)
  out.writeUInt32BE(headers.length, 4)
  out.writeUInt32BE(crc32(out.subarray(0, 8)), 8)
  headers.copy(out, PRELUDE_BYTES)
  body.copy(out, PRELUDE_BYTES + headers.length)
  out.writeUInt32BE(crc32(out.subarray(0, total - CRC_BYTES)), total - CRC_BYTES)
  return out
}

/** One `exception` message; the SDK throws the modeled class (e.g. ModelStreamErrorException). */
export function encodeExceptionFrame (type: StreamExceptionType | string, message: string): Uint8Array {
  return codec.encode({
    headers: {
      ':message-type': stringHeader('exception'),
      ':exception-type': stringHeader(type),
      ':content-type': stringHeader('application/json'),
    },
    body: fromUtf8(JSON.stringify({ message })),
  })
}

/** The single union member of an `event` step, or an error naming what is wrong with it. */
export function eventMember (event: Record<string, unknown>): { type: string, payload: unknown } {
  const keys = Object.keys(event)
  if (keys.length !== 1 || keys[0] === undefined) {
    throw new Error(`event step needs exactly one ConverseStreamOutput member, got [${keys.join(', ')}]`)
  }
  return { type: keys[0], payload: event[keys[0]] }
}
