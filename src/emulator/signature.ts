// Signatures of the emulator's reasoning blocks. Anthropic signs each thinking block and
// verifies the signature when the block comes back in a later turn (tools + thinking):
// the emulator does the same, so a proxy that loses or alters a signature, or the text it
// signs, fails as it would against Bedrock.
import { createHmac } from 'node:crypto'

// Not a secret: it only has to make a lost or altered block detectable in tests.
const KEY = 'bedrock-sse-proxy emulator reasoning'

export function signReasoning (text: string): string {
  return 'emu1.' + createHmac('sha256', KEY).update(text, 'utf8').digest('base64')
}

export function verifySignature (text: string, signature: unknown): boolean {
  return typeof signature === 'string' && signature === signReasoning(text)
}
