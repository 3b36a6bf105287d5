// Builds the device client for Espruino: minified ES2015 with no module system and no bundler
// runtime helpers (class fields are plain constructor assignments, nothing is exported).
//   dist/espruino/mqttsn-client.min.js   the library, full client: sets the global MQTTSNClient
//   dist/espruino/mqttsn-sensor.min.js   the library, sensor profile (device-client/core/sensor.ts)
//   dist/espruino/mqttsn-serial.min.js   the serial transport, an add-on to either library
//   dist/espruino/publish.min.js         the example on the sensor profile, self-contained; reads a
//                                        global MQTTSN_CONFIG
//   dist/espruino/publish-full.min.js    the same example on the full client (subscribe, QoS 2, serial)
// Usage: node scripts/build-device-espruino.mjs [--out DIR]   (default dist/espruino). Atomic writes.
import { build } from "esbuild";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { aliasThis } from "./espruino-this-alias.mjs";
import { topLevel } from "./espruino-top-level.mjs";
import { writeAtomically } from "./write-atomically.mjs";

/**
 * Private members of the core and adapters, renamed to short names: shorter code, and on Espruino every
 * property name longer than four characters costs variables. Public names (the API, the option and
 * buffer keys, the message fields of protocol/) never match.
 */
export const PRIVATE_NAMES = new RegExp(
  "^(" +
    [
      // the client's session state and internal methods (device-client/core)
      "now|transport|handler|options|slot[A-Z]\\w*|qos2Ids|topic(Name|Ids|Used|Clock)|waitingTopic",
      "control(Type|Retries)?|transmit|lastSent|advertiseDue|stateDue",
      "sleepDuration|nextId|sendWaiting|setState|openSlot|findSlot|finish",
      "findTopic|waitingName|other|subscription|ack",
      // the adapters' and the SLIP receiver's private members (device-client/espruino, core/slip-receiver.ts)
      "socket|config|gatewayHost|gatewayPort|senderHost|senderPort|timer|queued|epoch|datagram",
      "receiver|sink|escaped|skipping|fail",
    ].join("|") +
    ")$",
);

/**
 * The keys of ClientOptions and their short names in the Espruino bundles: last character and length
 * (device-client/espruino/options.ts moves the keys an application sets to them by the same
 * rule), the same in every bundle (a fixed mangle cache), so that the serial add-on reads the options
 * as the library does.
 */
const OPTION_KEYS = [
  "clientId",
  "keepAlive",
  "cleanSession",
  "willTopic",
  "willQos",
  "willRetain",
  "willMessage",
  "willMessageLength",
  "retryInterval",
  "maxRetries",
  "searchGateway",
  "hasConfiguredGateway",
  "searchDelay",
  "radius",
  "advertiseMisses",
  "reconnectDelay",
  "maxTopics",
  "maxIncomingQos2",
  "random",
];
const OPTION_NAMES = Object.fromEntries(OPTION_KEYS.map((k) => [k, k[k.length - 1] + k.length]));
if (new Set(Object.values(OPTION_NAMES)).size !== OPTION_KEYS.length) {
  throw new Error("build-device-espruino: two options have the same short name");
}
export const ESPRUINO_NAMES = new RegExp(`${PRIVATE_NAMES.source}|^(${OPTION_KEYS.join("|")})$`);

/** The prefix of the global names a library or example defines (scripts/espruino-top-level.mjs). */
const TOP_LEVEL_PREFIX = "$";

// Espruino's dgram module comes from its require(), outside the bundle: esbuild would wrap a
// require() it sees in a module-system shim. Boards without networking have no dgram: then only
// the serial transport works.
const DGRAM = 'var MQTTSN_DGRAM;try{MQTTSN_DGRAM=require("dgram")}catch(e){}';
const TARGETS = [
  { entry: "device-client/espruino/index.ts", file: "mqttsn-client.min.js", profile: "full" },
  { entry: "device-client/espruino/index.ts", file: "mqttsn-sensor.min.js", profile: "sensor" },
  { entry: "device-client/espruino/serial-addon.ts", file: "mqttsn-serial.min.js", profile: "global" },
  { entry: "device-client/examples/espruino-publish.ts", file: "publish.min.js", profile: "sensor", banner: DGRAM },
  {
    entry: "device-client/examples/espruino-publish-full.ts",
    file: "publish-full.min.js",
    profile: "full",
    banner: DGRAM,
  },
];

/**
 * device-client/espruino/profile.ts (the full client) resolves to profile-sensor.ts for the sensor
 * profile, and to profile-global.ts (the class of the library loaded first) for an add-on; .
 */
function profile(name) {
  return {
    name: `profile-${name}`,
    setup(b) {
      b.onResolve({ filter: /\/profile$/ }, (args) => ({
        path: path.resolve(args.resolveDir, args.path.replace(/profile$/, `profile-${name}.ts`)),
      }));
    },
  };
}

/**
 * protocol/text.ts resolves to device-client/espruino/text.ts: Espruino strings hold UTF-8 already
 * (see there).
 */
const ESPRUINO_TEXT = {
  name: "espruino-text",
  setup(b) {
    b.onResolve({ filter: /\/protocol\/text$/ }, (args) =>
      args.importer.endsWith(path.join("device-client", "espruino", "text.ts"))
        ? undefined
        : { path: path.resolve("device-client/espruino/text.ts") },
    );
  },
};

/**
 * device-client/core/has-full.ts's HAS_FULL as a constant of the build (false in the sensor profile):
 * the core files that import it read it as a global, which esbuild's define replaces before it
 * removes dead code (an imported constant is only inlined after that).
 */
const HAS_FULL_IMPORT = 'import { HAS_FULL } from "./has-full";';
const HAS_FULL = {
  name: "has-full",
  setup(b) {
    b.onLoad({ filter: /device-client[\\/]core[\\/][\w-]+\.ts$/ }, async (args) => {
      const text = await readFile(args.path, "utf8");
      return text.includes(HAS_FULL_IMPORT) ? { contents: text.replace(HAS_FULL_IMPORT, ""), loader: "ts" } : undefined;
    });
  },
};

/** Builds every file into out; returns { file: bytes }. */
export async function buildDeviceEspruino(out = "dist/espruino") {
  const sizes = {};
  for (const t of TARGETS) {
    const result = await build({
      entryPoints: [t.entry],
      bundle: true,
      minify: true,
      target: "es2015",
      // A library or example is a script of top-level definitions (scripts/espruino-top-level.mjs);
      // the add-on, loaded after a library, keeps its names to itself in a function.
      format: t.profile === "global" ? "iife" : "esm",
      platform: "neutral",
      write: false,
      logLevel: "warning",
      banner: { js: t.banner ?? "" },
      plugins: t.profile === "full" ? [ESPRUINO_TEXT, HAS_FULL] : [profile(t.profile), ESPRUINO_TEXT, HAS_FULL],
      mangleProps: ESPRUINO_NAMES,
      mangleCache: { ...OPTION_NAMES },
      define: {
        ESPRUINO_PROFILE: JSON.stringify(t.profile),
        HAS_FULL: JSON.stringify(t.profile !== "sensor"),
      },
      // Declared fields become nothing and initialisers constructor assignments: no __publicField.
      tsconfigRaw: { compilerOptions: { useDefineForClassFields: false, verbatimModuleSyntax: true } },
    });
    const text = result.outputFiles[0].text;
    const code = aliasThis(t.profile === "global" ? text : topLevel(text, TOP_LEVEL_PREFIX));
    writeAtomically(path.resolve(out, t.file), code);
    sizes[t.file] = Buffer.byteLength(code);
  }
  return sizes;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const i = process.argv.indexOf("--out");
  const out = i > 0 && process.argv[i + 1] ? process.argv[i + 1] : "dist/espruino";
  const sizes = await buildDeviceEspruino(out);
  console.log(
    `build:espruino: ${Object.entries(sizes)
      .map(([f, n]) => `${out}/${f} (${n} bytes)`)
      .join(", ")}`,
  );
}
