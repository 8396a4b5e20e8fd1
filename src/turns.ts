// Shared by the surfaces whose messages are not Bedrock's own (OpenAI's chat messages,
// the AI SDK's UI messages): building native turns from them. Bedrock needs user and
// assistant turns to alternate, which neither of those formats promises, so consecutive
// turns of one role are merged; and images arrive as data URLs, which become image
// blocks (the proxy fetches no URLs on anyone's behalf).
import { ProxyError } from './errors.js'
import { IMAGE_FORMATS, type PublicContentBlock, type PublicMessage } from './requests.js'

export type Role = 'user' | 'assistant'

/** Appends blocks as a turn of `role`, merged into the last turn when it has the same role. */
export function appendTurn (turns: PublicMessage[], role: Role, blocks: PublicContentBlock[]): void {
  if (blocks.length === 0) return
  const last = turns.at(-1)
  if (last !== undefined && last.role === role && typeof last.content !== 'string') last.content.push(...blocks)
  else turns.push({ role, content: [...blocks] })
}

const DATA_URL = /^data:image\/([a-z]+);base64,(.*)$/s

/** An image block from a `data:image/<format>;base64,` URL; `param` names the field in the client's terms. */
export function imageFromDataUrl (url: string, param: string): PublicContentBlock {
  const match = DATA_URL.exec(url)
  const format = match?.[1] === 'jpg' ? 'jpeg' : match?.[1]
  if (match === null || format === undefined || !(IMAGE_FORMATS as readonly string[]).includes(format)) {
    throw new ProxyError('bad_request', {
      message: `${param} must be a data URL of a ${IMAGE_FORMATS.join(', ')} image (data:image/png;base64,...); this server fetches no URLs.`,
      param,
    })
  }
  return { image: { format: format as typeof IMAGE_FORMATS[number], source: { bytes: match[2] as string } } }
}
