// Relay events -> the AI SDK's UI message stream protocol (v1): `data:` lines of JSON
// chunks that `useChat` and `readUIMessageStream` turn into a UIMessage. Pure framing
// (sse/framing.ts), made per stream: it remembers which content blocks are open, since
// the protocol brackets each one (`text-start` ... `text-end`) where Bedrock sends
// deltas and a `contentBlockStop`. Reasoning signatures and redacted reasoning travel
// in `providerMetadata.bedrock`, as the AI SDK's own Bedrock provider writes them; tool
// input is streamed (`tool-input-delta`) and then handed over whole, parsed
// (`tool-input-available`). The message id is the stream id, and the message metadata
// carries it, so a page can cancel it (DELETE /v1/streams/{id}).
import type { UsageData } from '../events.js'
import { dataLine, type FramingFactory } from '../sse/framing.js'

interface OpenBlock { kind: 'text' | 'reasoning' | 'tool', id: string, toolName: string, input: string }

/** Bedrock's stopReason -> the AI SDK's finishReason. */
export function uiFinishReasonOf (stopReason: string): string {
  switch (stopReason) {
    case 'end_turn':
    case 'stop_sequence': return 'stop'
    case 'max_tokens': return 'length'
    case 'tool_use': return 'tool-calls'
    case 'content_filtered':
    case 'guardrail_intervened': return 'content-filter'
  }
  return 'other'
}

export const uiMessageFraming: FramingFactory = ({ streamId, model }) => {
  const open = new Map<number, OpenBlock>()
  let finishReason = 'other'
  let failed = false
  let usage: UsageData | undefined

  function opened (index: number, kind: 'text' | 'reasoning'): { block: OpenBlock, start: string } {
    const known = open.get(index)
    if (known !== undefined) return { block: known, start: '' }
    const block: OpenBlock = { kind, id: `${streamId}-${index}`, toolName: '', input: '' }
    open.set(index, block)
    return { block, start: dataLine({ type: `${kind}-start`, id: block.id }) }
  }

  function close (index: number): string {
    const block = open.get(index)
    if (block === undefined) return ''
    open.delete(index)
    if (block.kind !== 'tool') return dataLine({ type: `${block.kind}-end`, id: block.id })
    const toolCall = { toolCallId: block.id, toolName: block.toolName }
    try {
      return dataLine({ type: 'tool-input-available', ...toolCall, input: block.input === '' ? {} : JSON.parse(block.input) })
    } catch {
      return dataLine({ type: 'tool-input-error', ...toolCall, input: block.input, errorText: 'The model sent tool input that is not JSON.' })
    }
  }

  return {
    frame (_seq, event) {
      switch (event.type) {
        case 'start':
          return dataLine({ type: 'start', messageId: streamId, messageMetadata: { streamId, model } }) + dataLine({ type: 'start-step' })
        case 'text': {
          const { block, start } = opened(event.data.index, 'text')
          return start + dataLine({ type: 'text-delta', id: block.id, delta: event.data.text })
        }
        case 'reasoning': {
          const { data } = event
          const { block, start } = opened(data.index, 'reasoning')
          if ('text' in data) return start + dataLine({ type: 'reasoning-delta', id: block.id, delta: data.text })
          const bedrock = 'signature' in data ? { signature: data.signature } : { redactedData: data.redacted }
          return start + dataLine({ type: 'reasoning-delta', id: block.id, delta: '', providerMetadata: { bedrock } })
        }
        case 'tool_use': {
          const block: OpenBlock = { kind: 'tool', id: event.data.toolUseId, toolName: event.data.name, input: '' }
          open.set(event.data.index, block)
          return dataLine({ type: 'tool-input-start', toolCallId: block.id, toolName: block.toolName })
        }
        case 'tool_input': {
          const block = open.get(event.data.index)
          if (block === undefined || block.kind !== 'tool') return ''
          block.input += event.data.input
          return dataLine({ type: 'tool-input-delta', toolCallId: block.id, inputTextDelta: event.data.input })
        }
        case 'block_stop': return close(event.data.index)
        case 'stop': finishReason = uiFinishReasonOf(event.data.stopReason); return ''
        case 'usage': usage = event.data; return ''
        case 'error':
          failed = true
          return dataLine({ type: 'error', errorText: event.data.message, code: event.data.code, retryable: event.data.retryable })
        case 'done': {
          // Blocks a failure left open are closed, so the message is whole.
          let out = ''
          for (const index of [...open.keys()]) out += close(index)
          const metadata = { streamId, model, ...(usage !== undefined ? { usage } : {}) }
          return out + dataLine({ type: 'finish-step' }) +
            dataLine({ type: 'finish', finishReason: failed ? 'error' : finishReason, messageMetadata: metadata }) +
            'data: [DONE]\n\n'
        }
        default: return '' // other deltas (citations...) have no chunk of their own here
      }
    },
  }
}
