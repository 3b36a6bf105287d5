import type { ClientOptions } from "../core/types";

export { defaultOptions } from "../core/options";

/**
 * " clientId:OA keepAlive:OB … .": each key of ClientOptions and the short name the Espruino build
 * gives it (scripts/build-device-espruino.mjs defines it).
 */
declare const ESPRUINO_OPTION_NAMES: string;

/**
 * Options on Espruino. An object with the 19 long property names of ClientOptions costs a board about
 * 60 variables, with short names about 30; so in the Espruino bundles the options have short names.
 * defaultOptions gives such an object; the application sets any key on it by the name it has on
 * every platform (options.keepAlive = 30), and the adapter's constructor takes the object over:
 * clientOptions moves each of those keys to its short name. Read back after that, options.keepAlive
 * is undefined.
 */
export function clientOptions(options: ClientOptions): ClientOptions {
  const names = ESPRUINO_OPTION_NAMES;
  const o = options as unknown as Record<string, unknown>;
  for (const key in o) {
    const at = names.indexOf(" " + key + ":");
    if (at >= 0) {
      o[names.substring(at + key.length + 2, names.indexOf(" ", at + 1))] = o[key];
      delete o[key];
    }
  }
  return options;
}
