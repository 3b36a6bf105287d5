import dgram from "node:dgram";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import vm from "node:vm";

/**
 * Runs an Espruino bundle under Node's vm with Espruino-shaped globals: require("dgram") answers a
 * stand-in with Espruino's string-based API backed by real node:dgram sockets; E.toString, getTime,
 * setInterval, console.log. Buffer, Map, Set, WeakMap, Symbol, Proxy and Reflect are removed from the
 * context first, so a bundle that uses them fails here. What this does not cover: Espruino's own
 * interpreter (its parser, its memory limits, its event loop timing).
 */
/** Espruino's Serial1 / Bluetooth shape, for the serial transport. */
export interface SerialStandIn {
  on(event: "data", listener: (data: string) => void): void;
  write(data: string): void;
}

export function runEspruino(
  bundleFile: string,
  config: object,
  serial?: SerialStandIn,
  timeoutMs = 15_000,
): Promise<{ lines: string[]; ok: boolean }> {
  const lines: string[] = [];
  const sockets: dgram.Socket[] = [];
  const timers: NodeJS.Timeout[] = [];
  return new Promise((resolve, reject) => {
    const finish = (ok: boolean) => {
      clearTimeout(deadline);
      for (const t of timers) clearInterval(t);
      for (const s of sockets) {
        try {
          s.close();
        } catch {
          // already closed by the bundle
        }
      }
      resolve({ lines, ok });
    };
    const deadline = setTimeout(() => finish(false), timeoutMs);
    const standIn = {
      createSocket: () => {
        const s = dgram.createSocket("udp4");
        sockets.push(s);
        return {
          on: (event: string, listener: (msg: string, rinfo: object) => void) => {
            if (event === "message")
              s.on("message", (msg, r) =>
                listener(msg.toString("latin1"), { address: r.address, port: r.port, size: msg.length }),
              );
          },
          bind: (port: number) => s.bind(port),
          send: (msg: string, port: number, address: string) => {
            if (typeof msg !== "string") throw new Error("Espruino's dgram send takes a string");
            s.send(Buffer.from(msg, "latin1"), port, address);
          },
          close: () => s.close(),
        };
      },
    };
    const context = vm.createContext({
      console: {
        log: (text: unknown) => {
          lines.push(String(text));
          if (text === "finished" || text === "failed") setImmediate(() => finish(text === "finished"));
        },
      },
      E: { toString: (u8: Uint8Array) => String.fromCharCode.apply(null, Array.from(u8)) },
      getTime: () => performance.now() / 1000,
      setInterval: (fn: () => void, ms: number) => {
        const t = setInterval(fn, ms);
        timers.push(t);
        return t;
      },
      clearInterval: (t: NodeJS.Timeout) => clearInterval(t),
      setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
      require: (name: string) => {
        if (name === "dgram") return standIn;
        throw new Error(`module ${name} not found`);
      },
      MQTTSN_CONFIG: config,
      ...(serial ? { Serial1: serial } : {}),
    });
    vm.runInContext(
      "delete globalThis.Map; delete globalThis.Set; delete globalThis.WeakMap; delete globalThis.Symbol; delete globalThis.Proxy; delete globalThis.Reflect;",
      context,
    );
    try {
      vm.runInContext(readFileSync(bundleFile, "utf8"), context, { filename: bundleFile });
    } catch (e) {
      clearTimeout(deadline);
      reject(e);
    }
  });
}
