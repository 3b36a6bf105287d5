export { startGateway, type GatewayOptions, type RunningGateway } from "./gateway";
export { ConfigError, defaultConfig, loadConfigFile, validateConfig, type GatewayConfig } from "./config";
export { createLog } from "./log";
export type { Counters } from "./session/types";
