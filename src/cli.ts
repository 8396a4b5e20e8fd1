#!/usr/bin/env node
// `npx bedrock-sse-proxy` (package.json "bin"): the server, configured from the
// environment as `npm start` is (a .env is the caller's business: `node --env-file`).
import { main } from './server.js'

await main()
