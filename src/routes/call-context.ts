// What a route tells toConverseInput about the call besides the request: the stream id
// and the key's name (Bedrock's requestMetadata, so AWS invocation logs join the proxy's
// own), and the key's own guardrail, when its entry in API_KEYS_FILE has one.
import type { FastifyRequest } from 'fastify'
import type { CallContext } from '../bedrock/converse-input.js'
import { keyLabel } from '../telemetry/labels.js'

export function callContextOf (request: FastifyRequest, streamId: string): CallContext {
  const guardrail = request.principal?.limits.guardrail
  return { streamId, principalName: keyLabel(request.principal), ...(guardrail !== undefined ? { guardrail } : {}) }
}
