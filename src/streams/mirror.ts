// What the producer needs from a shared buffer (Redis): a copy of every event, the end,
// and whether a reader on another instance is attached (for the resume grace period).
import type { BufferedEvent } from './replay-buffer.js'

export interface StreamMirror {
  append: (entry: BufferedEvent, resumable: boolean) => void
  finish: (stream: { lastSeq: number, resumable: boolean }) => void
  hasRemoteReaders: () => Promise<boolean>
}
