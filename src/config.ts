// The configuration's public entry: the rest of the proxy, the tests, the bench and the
// demo import from here. The table of settings and the loader live in src/config/.
export { DEFAULTS } from './config/defaults.js'
export { ConfigError, loadConfig } from './config/load.js'
export type { BedrockHttp, Config, Env } from './config/types.js'
