import { startGateway as start, type GatewayOptions, type RunningGateway } from "../../gateway/index";
import { withTestMode } from "./upstream-mode";

/** The gateway in this process, in the suites' upstream mode unless the config names one (upstream-mode.ts). */
export function startGateway(config: object, options?: GatewayOptions): Promise<RunningGateway> {
  return start(withTestMode(config), options);
}
