// Every path the benchmark can load, in the order the report lists them.
import { aiSdkPath } from './ai-sdk.js'
import { obviousRelayPath } from './obvious-relay.js'
import { portkeyPath } from './portkey.js'
import { proxyH2SharedPath, proxyPath } from './proxy.js'
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
  'proxy-h2-shared': proxyH2SharedPath,
}

export const PATH_IDS = Object.keys(PATHS) as PathId[]

/** The paths a full run compares (the proxy with both upstream modes); its other surfaces run as feature variants. */
export const MAIN_PATH_IDS: PathId[] = ['obvious-relay', 'sdk-direct', 'proxy', 'proxy-h2-shared', 'portkey', 'ai-sdk']

export function isPathId (id: string): id is PathId {
  return id in PATHS
}
