// The local Bedrock Runtime emulator: ConverseStream and Converse over h2c and HTTP/1.1 on one port.
export { startEmulator } from './server.js'
export {
  chunkCodePoints, messageScenario, textScenario,
  type BlockSpec, type CitationSpec, type MessageScenarioOptions, type Scenario, type Step, type StreamExceptionType, type UsageSpec,
} from './scenario.js'
export { formatStamp, readStamps, stampedScenario, stampClockMs, type StampedScenarioOptions } from './stamp.js'
export { encodeEventFrame, encodeExceptionFrame } from './frames.js'
export { planConverse, type ConverseBody } from './converse.js'
export { featureScenario, GUARDRAIL_BLOCKED_TEXT, sampleInput, type PromptCache } from './features.js'
export { signReasoning, verifySignature } from './signature.js'
export { validateConverseInput } from './validate.js'
export { defaultResponder, composeReply, readPrompt, TRICKY_TEXT } from './responder.js'
export type {
  Emulator, EmulatorLogger, EmulatorOptions, EmulatorRequest, Operation, Outcome, Responder, ResponderInput,
} from './types.js'
