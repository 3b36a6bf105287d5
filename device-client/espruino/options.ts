import type { ClientOptions } from "../core/types";

export { defaultOptions } from "../core/options";

/**
 * Options on Espruino. An object with the 19 long property names of ClientOptions costs a board about
 * 60 variables, with short names about 30; so in the Espruino bundles the options have short names:
 * each key's last character and its length (clientId is d8, keepAlive e9, maxIncomingQos2 "215"),
 * which fit the variable that names a property. scripts/build-device-espruino.mjs gives them by the same rule.
 * defaultOptions gives such an object; the application sets any key on it by the name it has on
 * every platform (options.keepAlive = 30), and the adapter's constructor takes the object over:
 * clientOptions moves each of those keys (every key longer than four characters) to its short name.
 * Read back after that, options.keepAlive is undefined.
 */
export function clientOptions(options: Record<string, unknown>): ClientOptions {
  for (const key in options) {
    if (key.length > 4) {
      options[(key[key.length - 1] as string) + key.length] = options[key];
      delete options[key];
    }
  }
  return options as unknown as ClientOptions;
}
