// A route on the Vercel AI SDK's Bedrock provider, as its docs show for node:http:
// streamText, then the UI message stream (SSE of JSON parts) piped to the response.
import http from 'node:http'
import { createAmazonBedrock } from '@ai-sdk/amazon-bedrock'
import { streamText } from 'ai'

const bedrock = createAmazonBedrock({
  baseURL: process.env['EMULATOR_URL'],
  region: 'us-east-1',
  accessKeyId: 'bench',
  secretAccessKey: 'bench',
})

http.createServer((req, res) => {
  const prompt = new URL(req.url ?? '/', 'http://127.0.0.1').searchParams.get('prompt') ?? ''
  const result = streamText({ model: bedrock('bench.model-v1:0'), prompt })
  result.pipeUIMessageStreamToResponse(res)
}).listen(Number(process.env['PORT']), '127.0.0.1')
