// SSE frame encoding (WHATWG HTML, "Server-sent events", 9.2.6 Interpreting an event
// stream). Pure. Model text never reaches the wire raw: `data:` is one line of JSON,
// and JSON.stringify escapes CR and LF, so a delta such as "Hello\revent: admin" cannot
// forge a field (a lone CR is a line break for the parser, FIELD-NOTES 15). U+2028 and
// U+2029 are not line breaks for SSE and pass through unescaped; NUL is escaped by JSON.

export interface SseFrame {
  id: string
  event: string
  data: unknown
}

/** `id` and `event` are ours (never client text); refuse anything that could break a line. */
const FIELD_SAFE = /^[^\r\n\0]*$/

export function formatEvent (frame: SseFrame): string {
  return formatEventJson(frame.id, frame.event, JSON.stringify(frame.data))
}

/** For data already serialised by JSON.stringify (which never leaves a raw CR or LF). */
export function formatEventJson (id: string, event: string, json: string): string {
  if (!FIELD_SAFE.test(id) || !FIELD_SAFE.test(event)) {
    throw new Error('SSE id and event must not contain CR, LF or NUL')
  }
  return `id: ${id}\nevent: ${event}\ndata: ${json}\n\n`
}

/** A comment line: ignored by clients, keeps idle connections open through proxies (FIELD-NOTES 16). */
export function formatComment (text: string): string {
  return `: ${text.replace(/[\r\n]/g, ' ')}\n\n`
}

/** Event ids carry the stream id so a reconnect (Last-Event-ID) can find the stream. */
export function eventId (streamId: string, seq: number): string {
  return `${streamId}-${seq}`
}

export function parseEventId (id: string): { streamId: string, seq: number } | undefined {
  const match = /^([A-Za-z0-9_]{8,64})-(\d{1,9})$/.exec(id)
  if (match === null) return undefined
  return { streamId: match[1] as string, seq: Number(match[2]) }
}
