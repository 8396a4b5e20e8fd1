// Every path the benchmark can load, in the order the report lists them.
import { aiSdkPath } from './ai-sdk.js'
import { obviousRelayPath } from './obvious-relay.js'
import { portkeyPath } from './portkey.js'
import { proxyHttp1Path, proxyPath } from './proxy.js'
import { proxyOpenAIPath, proxyUiChatPath } from './proxy-surfaces.js'
import { sdkDirectPath } from './sdk-direct.js'
import type { PathId, PathSpec } from './types.js'

export const PATHS: Record<PathId, PathSpec> = {
  'obvious-relay': obviousRelayPath,
  'sdk-direct': sdkDirectPath,
  proxy: proxyPath,
  portkey: portkeyPath,
  'ai-sdk': aiSdkPath,
  'proxy-openai': proxyOpenAIPath,
  'proxy-ui-chat': proxyUiChatPath,
  'proxy-http1': proxyHttp1Path,
}

export const PATH_IDS = Object.keys(PATHS) as PathId[]

/** The paths a full run compares (the proxy with both upstream modes); its other surfaces run as feature variants. */
export const MAIN_PATH_IDS: PathId[] = ['obvious-relay', 'sdk-direct', 'proxy', 'proxy-http1', 'portkey', 'ai-sdk']

export function isPathId (id: string): id is PathId {
  return id in PATHS
}
