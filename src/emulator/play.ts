// Plays a scenario onto one response: the stream for ConverseStream, one JSON answer for Converse.
import { randomUUID } from 'node:crypto'
import { encodeEventFrame, encodeExceptionFrame, eventMember } from './frames.js'
import type { ConversePlan } from './converse.js'
import type { Scenario } from './scenario.js'
import type { ResponseSink } from './sink.js'
import { stampPayload, stampClockMs, type SendLog } from './stamp.js'

/** How the emulator itself finished a response; a client that leaves first is recorded elsewhere. */
export type Finish = 'completed' | 'reset' | 'error'

export function sendHttpError (sink: ResponseSink, status: number, type: string, message: string): void {
  // restJson1 error dispatch reads `x-amzn-errortype`, then the body's `message`.
  sink.head(status, {
    'content-type': 'application/json',
    'x-amzn-errortype': type,
    'x-amzn-requestid': randomUUID(),
  })
  sink.end(JSON.stringify({ message }))
}

/**
 * Stops quietly as soon as the client leaves (the server records that as `aborted`). `finish` is
 * called before the final end/reset so the 'close' that follows is never taken for an abort.
 */
export async function playStream (
  sink: ResponseSink, scenario: Scenario, defaultFrameDelayMs: number, finish: (f: Finish) => void, sendLog?: SendLog
): Promise<void> {
  if (scenario.httpError) {
    const { status, type, message } = scenario.httpError
    finish('error')
    sendHttpError(sink, status, type, message ?? type)
    return
  }
  const frameDelayMs = scenario.frameDelayMs ?? defaultFrameDelayMs
  sink.head(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': randomUUID() })
  for (const step of scenario.steps) {
    if (sink.closed) return
    if ('event' in step) {
      const { type, payload } = eventMember(step.event)
      if (!await sink.sleep(frameDelayMs)) return
      // Stamped after the delay, right before the write: the token's send time.
      const stamp = scenario.stampText === true ? stampClockMs() : undefined
      const body = stamp !== undefined ? stampPayload(type, payload, stamp) : payload
      const written = sink.write(encodeEventFrame(type, body))
      if (stamp !== undefined && body !== payload && sink.protocol === 'h2') sendLog?.afterWrite(stamp)
      if (!await written) return
    } else if ('exception' in step) {
      const frame = encodeExceptionFrame(step.exception, step.message ?? `emulated ${step.exception}`)
      if (!await sink.write(frame)) return
      finish('completed')
      sink.end()
      return
    } else if ('delayMs' in step) {
      if (!await sink.sleep(step.delayMs)) return
    } else if ('reset' in step) {
      finish('reset')
      sink.reset(step.scope)
      return
    } else if ('goaway' in step) {
      sink.goaway()
    } else if ('end' in step) {
      break
    } else {
      await sink.untilClose()
      return
    }
  }
  if (sink.closed) return
  finish('completed')
  sink.end()
}

export async function playConverse (sink: ResponseSink, plan: ConversePlan, finish: (f: Finish) => void): Promise<void> {
  if (!await sink.sleep(plan.delayMs)) return
  const { outcome } = plan
  if (outcome.kind === 'hang') {
    await sink.untilClose()
  } else if (outcome.kind === 'reset') {
    finish('reset')
    sink.reset(outcome.scope)
  } else if (outcome.kind === 'httpError') {
    finish('error')
    sendHttpError(sink, outcome.status, outcome.type, outcome.message)
  } else {
    finish('completed')
    sink.head(200, { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID() })
    sink.end(JSON.stringify(outcome.body))
  }
}
