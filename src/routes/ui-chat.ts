// The Vercel AI SDK surface: POST /v1/ui-chat answers `useChat`'s default transport with
// the UI message stream, and GET /v1/ui-chat/{chatId}/stream is the transport's resume
// (`resume: true`): a page reloaded during an answer gets that answer again, replayed
// from its start and then live, with no second Bedrock call, on this instance or, with
// Redis, on any other. Same pipeline as every other surface (start-stream.ts); the
// stream is known by its chat id, scoped to the principal that started it.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ownerOf } from '../security/principal.js'
import { uiMessageFraming } from '../ui-chat/framing.js'
import { UIChatBody, UIChatParams, UIMessageStream, type UIChatRequest } from '../ui-chat/schemas.js'
import { uiChatToConverse } from '../ui-chat/to-converse.js'
import { ErrorResponses, NothingToResume } from './responses.js'
import { followRemote, localReader, sendSse } from './sse-reply.js'
import { startStream } from './start-stream.js'

const UI_STREAM_HEADERS = { 'x-vercel-ai-ui-message-stream': 'v1' }

/** A chat id is the client's own name: it finds a stream only for the principal that started it. */
function chatAlias (request: FastifyRequest, chatId: string): string {
  return `ui-chat\n${ownerOf(request.principal) ?? ''}\n${chatId}`
}

export async function uiChatRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.post('/ui-chat', {
    config: { kind: 'generate', toConverse: (request: FastifyRequest) => uiChatToConverse(request.body as UIChatRequest) },
    schema: { summary: "Stream an answer to useChat (the AI SDK's UI message stream)", body: UIChatBody, response: { 200: UIMessageStream, ...ErrorResponses } },
  }, async function uiChat (request, reply) {
    return startStream(request, reply, {
      framing: uiMessageFraming,
      headers: UI_STREAM_HEADERS,
      resume: 'yes',
      alias: chatAlias(request, request.body.id),
      commit: 'at-once',
    })
  })

  app.get('/ui-chat/:chatId/stream', {
    config: { kind: 'resume' },
    schema: { summary: "Resume a chat's running answer (useChat `resume: true`)", params: UIChatParams, response: { 200: UIMessageStream, 204: NothingToResume, ...ErrorResponses } },
  }, async function resumeUiChat (request, reply) {
    return resumeChat(request, reply, request.params.chatId)
  })
}

/**
 * Only a running answer is resumed: a finished one is already in the page's messages (the
 * AI SDK asks on every load with resume: true), and 204 tells it there is nothing to resume.
 * The stream may run here, or, with Redis, on another instance.
 */
async function resumeChat (request: FastifyRequest, reply: FastifyReply, chatId: string): Promise<FastifyReply> {
  const app = request.server
  const alias = chatAlias(request, chatId)
  const session = app.streamHub.byAlias(alias)
  if (session !== undefined) {
    if (session.ended || !session.canReplayFrom(0)) return reply.code(204).send()
    return sendSse(request, reply, localReader(request, reply, session, 0), UI_STREAM_HEADERS)
  }
  const remote = app.redisStreams
  if (remote === null || !remote.healthy) return reply.code(204).send()
  const streamId = await remote.streamIdOf(alias).catch(() => undefined)
  const info = streamId !== undefined ? await remote.info(streamId).catch(() => undefined) : undefined
  // The alias is scoped to the owner already; a lost producer still resumes to its end (stream_lost).
  if (streamId === undefined || info === undefined || info.status === 'ended' || !info.resumable) return reply.code(204).send()
  return followRemote(request, reply, streamId, 0, { framing: uiMessageFraming({ streamId, model: info.model }), headers: UI_STREAM_HEADERS })
}
