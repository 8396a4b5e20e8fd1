// The baseline: the relay users write themselves from the SDK's README, one Fastify route.
// Default SDK client, `for await` over the stream, one SSE frame per text delta. No
// heartbeat, no abort, no resume, no limits: what the proxy is compared with.
import { BedrockRuntimeClient, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime'
import Fastify from 'fastify'

const client = new BedrockRuntimeClient({ region: 'us-east-1', endpoint: process.env['EMULATOR_URL'] })
const app = Fastify()

app.get('/chat', async (request, reply) => {
  const { prompt } = request.query as { prompt: string }
  const response = await client.send(new ConverseStreamCommand({
    modelId: 'bench.model-v1:0',
    messages: [{ role: 'user', content: [{ text: prompt }] }],
  }))
  reply.hijack()
  reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  for await (const event of response.stream ?? []) {
    const text = event.contentBlockDelta?.delta?.text
    if (text !== undefined) reply.raw.write(`data: ${JSON.stringify({ text })}\n\n`)
  }
  reply.raw.end('data: [DONE]\n\n')
})

await app.listen({ port: Number(process.env['PORT']), host: '127.0.0.1' })
