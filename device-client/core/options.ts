import { N_ADV, N_RETRY } from "../../protocol/timers";
import type { Bytes } from "../../protocol/messages";
import type { ClientOptions } from "./types";
import { HAS_FULL } from "./has-full";

/**
 * Options with the specification's recommended timers (§6.16) for a client that connects to the
 * configured gateway. Called once at start-up; adapters change what they need.
 */
export function defaultOptions(clientId: string, random: () => number): ClientOptions {
  const none: Bytes = [];
  const options = {
    clientId: clientId,
    keepAlive: 60,
    cleanSession: true,
    willTopic: "",
    willQos: 0,
    willRetain: false,
    willMessage: none,
    willMessageLength: 0,
    // The timers of protocol/timers.ts in milliseconds, written out (a product stays one in the
    // Espruino bundles): T_RETRY 10 s, T_SEARCHGW 5 s, T_WAIT 300 s.
    retryInterval: 10000,
    maxRetries: N_RETRY,
    searchGateway: false,
    searchDelay: 5000,
    radius: 1,
    // T_WAIT (§6.16): how long a client waits before trying a gateway it gave up on again.
    reconnectDelay: 300000,
    maxTopics: 8,
    random: random,
  } as ClientOptions;
  if (HAS_FULL) {
    // Read by the full client only: a sensor-profile bundle has no use for them (types.ts).
    options.hasConfiguredGateway = true;
    options.advertiseMisses = N_ADV;
    options.maxIncomingQos2 = 4;
  }
  return options;
}
