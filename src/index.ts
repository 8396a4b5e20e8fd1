// The package's public surface: the plugin to mount in your own Fastify app, the
// standalone composition, configuration, and the event and error contracts clients see.
export { bedrockSse, type BedrockSseHandle, type BedrockSseOptions } from './plugin.js'
export { composeApp, type AppDeps } from './app.js'
export { startServer, type RunningServer } from './server.js'
export { ConfigError, DEFAULTS, loadConfig, type Config, type Env } from './config.js'
export { createBedrockClient } from './bedrock/client.js'
export { ERROR_CATALOGUE, ProxyError, type ErrorCode } from './errors.js'
export type {
  BlockStopData, CitationData, DeltaData, DoneData, ErrorData, ReasoningData, RelayEvent, RelayEventType, StartData, StopData,
  TextData, ToolInputData, ToolUseData, UsageData,
} from './events.js'
export { RELAY_EVENT_TYPES } from './events.js'
export type { ConverseRequest } from './requests.js'
export type { CallContext, FeaturePolicy, GuardrailSettings } from './bedrock/request-policy.js'
