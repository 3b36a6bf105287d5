import { N_ADV, N_RETRY, T_RETRY, T_SEARCHGW, T_WAIT } from "../../protocol/timers";
import type { Bytes } from "../../protocol/messages";
import type { ClientOptions } from "./types";

/**
 * Options with the specification's recommended timers (§6.16) for a client that connects to the
 * configured gateway. Called once at start-up; adapters change what they need.
 */
export function defaultOptions(clientId: string, random: () => number): ClientOptions {
  const none: Bytes = [];
  return {
    clientId: clientId,
    keepAlive: 60,
    cleanSession: true,
    willTopic: "",
    willQos: 0,
    willRetain: false,
    willMessage: none,
    willMessageLength: 0,
    retryInterval: T_RETRY * 1000,
    maxRetries: N_RETRY,
    searchGateway: false,
    hasConfiguredGateway: true,
    searchDelay: T_SEARCHGW * 1000,
    radius: 1,
    advertiseMisses: N_ADV,
    // T_WAIT (§6.16): how long a client waits before trying a gateway it gave up on again.
    reconnectDelay: T_WAIT * 1000,
    maxTopics: 8,
    maxIncomingQos2: 4,
    random: random,
  };
}
