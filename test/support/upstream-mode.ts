/**
 * The upstream mode the end-to-end suites run the gateway in: MQTTSN_TEST_MODE=aggregating runs them all
 * again through shared connections (`npm test` does both). A test that is about one mode names it itself.
 */
export const testMode: "transparent" | "aggregating" =
  process.env.MQTTSN_TEST_MODE === "aggregating" ? "aggregating" : "transparent";

/** The config with the suites' mode, unless it names a mode itself. */
export function withTestMode<T extends object>(config: T): T {
  return "mode" in config ? config : { ...config, mode: testMode };
}
