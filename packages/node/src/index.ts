export { type StartAnvilParameters, type StartAnvilReturnType, startAnvil } from './chain/anvil.js'
export {
  type ConfigError,
  DEFAULT_PORT,
  defaultConfig,
  loadConfig,
  type NodeConfig,
  type NodeConfigOverrides,
} from './config.js'
export type { NodeContext } from './context.js'
export { DEV_MNEMONIC, type DevAccount, devPrivateKey } from './embedded/dev-accounts.js'
export { createApp } from './http/app.js'
export { createLogger, type Logger } from './logger.js'
export { NODE_VERSION, type NodeHandle, type StartNodeParameters, startNode } from './start-node.js'
export { type SweepOrphansParameters, sweepOrphans } from './storage-maintenance/sweep-orphans.js'
