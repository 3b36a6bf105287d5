// Builds the device client for Espruino: minified ES2015 with no module system and no bundler
// runtime helpers (class fields are plain constructor assignments, nothing is exported).
//   dist/espruino/mqttsn-client.min.js   the library: sets the global MQTTSNClient
//   dist/espruino/publish.min.js          the example, self-contained; reads a global MQTTSN_CONFIG
// Usage: node scripts/build-device-espruino.mjs [--out DIR]   (default dist/espruino). Atomic writes.
import { build } from "esbuild";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { writeAtomically } from "./write-atomically.mjs";

/**
 * Private members of the core and adapters, renamed to short names: shorter code, and on Espruino every
 * property name longer than four characters costs variables. Public names (the API, the option and
 * buffer keys, the message fields of protocol/) never match.
 */
export const PRIVATE_NAMES =
  /^(slot[A-Z]\w*|slots|control[A-Z]\w*|m[A-Z]\w*|on[A-Z]\w*|send[A-Z]\w*|lastSent|advertiseDeadline|stateDeadline|sleepDuration|searches|nextId|qos2Ids|decodeOptions|transmitControl|fillPublish|publishNow|subscribeNow|unsubscribeNow|requestSlot|retransmit|failAll|clearQos2|findSlot|freeSlot|busySlots|newMsgId|connectNow|searchTick|setState|controlFailed)$/;

const TARGETS = [
  { entry: "device-client/espruino/index.ts", file: "mqttsn-client.min.js" },
  // Espruino's dgram module comes from its require(), outside the bundle: esbuild would wrap a
  // require() it sees in a module-system shim. Boards without networking have no dgram: then only
  // the serial transport works.
  {
    entry: "device-client/examples/espruino-publish.ts",
    file: "publish.min.js",
    banner: 'var MQTTSN_DGRAM;try{MQTTSN_DGRAM=require("dgram")}catch(e){}',
  },
];

/** Builds both files into out; returns { file: bytes }. */
export async function buildDeviceEspruino(out = "dist/espruino") {
  const sizes = {};
  for (const t of TARGETS) {
    const result = await build({
      entryPoints: [t.entry],
      bundle: true,
      minify: true,
      target: "es2015",
      format: "iife",
      platform: "neutral",
      write: false,
      logLevel: "warning",
      banner: { js: t.banner ?? "" },
      mangleProps: PRIVATE_NAMES,
      // Declared fields become nothing and initialisers constructor assignments: no __publicField.
      tsconfigRaw: { compilerOptions: { useDefineForClassFields: false, verbatimModuleSyntax: true } },
    });
    const code = result.outputFiles[0].text;
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
