import dgram from "node:dgram";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import vm from "node:vm";

/**
 * Runs an Espruino bundle under Node's vm with Espruino-shaped globals: require("dgram") answers a
 * stand-in with Espruino's string-based API backed by real node:dgram sockets; E.toString, getTime,
 * setInterval, console.log. Buffer, Map, Set, WeakMap, Symbol, Proxy and Reflect are removed from the
 * context first, so a bundle that uses them fails here. The stand-in's send() queues as Espruino's does
 * (libs/network/socketserver.c): it appends the datagram to the socket's send queue, which is emptied one
 * datagram per turn of the event loop (setImmediate standing in for the interpreter's idle loop), and
 * "drain" listeners run once it is empty. What this does not cover: Espruino's own interpreter (its
 * parser, its memory limits, its event loop timing).
 */
/** Espruino's Serial1 / Bluetooth shape, for the serial transport. */
export interface SerialStandIn {
  on(event: "data", listener: (data: string) => void): void;
  write(data: string): void;
}

export interface EspruinoRun {
  lines: string[];
  ok: boolean;
  /** The most datagrams that waited in one socket's send queue at once. */
  maxQueued: number;
  /** The most octets that queue held at once, as Espruino keeps it: an 8-octet header per datagram. */
  maxQueuedOctets: number;
}

/** Espruino's JsNetUDPPacketHeader: host (4), port (2), length (2) before each queued datagram. */
const UDP_HEADER = 8;

export function runEspruino(
  bundleFile: string,
  config: object,
  serial?: SerialStandIn,
  timeoutMs = 15_000,
): Promise<EspruinoRun> {
  const lines: string[] = [];
  let maxQueued = 0;
  let maxQueuedOctets = 0;
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
      resolve({ lines, ok, maxQueued, maxQueuedOctets });
    };
    const deadline = setTimeout(() => finish(false), timeoutMs);
    const standIn = {
      createSocket: () => {
        const s = dgram.createSocket("udp4");
        sockets.push(s);
        const queue: { data: Buffer; port: number; address: string }[] = [];
        let octets = 0;
        // close() waits for the queue to empty, as Espruino's does; "close" also comes from finish().
        let closing = false;
        let ended = false;
        s.on("close", () => (ended = true));
        const end = () => {
          if (!ended) s.close();
          ended = true;
        };
        const drains: ((socket: object) => void)[] = [];
        // One datagram per turn, as Espruino's idle loop sends them; "drain" once the queue is empty,
        // with the socket as its one argument (libs/network/socketserver.c queues it so).
        const flush = () => {
          const d = queue.shift();
          if (d === undefined || ended) return;
          octets -= UDP_HEADER + d.data.length;
          s.send(d.data, d.port, d.address);
          if (queue.length > 0) {
            setImmediate(flush);
          } else {
            for (const l of drains) l(socket);
            if (closing) end();
          }
        };
        const socket = {
          on: (event: string, listener: (msg: string, rinfo: object) => void) => {
            if (event === "message")
              s.on("message", (msg, r) =>
                listener(msg.toString("latin1"), { address: r.address, port: r.port, size: msg.length }),
              );
            if (event === "drain") drains.push(listener as unknown as (socket: object) => void);
          },
          bind: (port: number) => s.bind(port),
          send: (msg: string, port: number, address: string) => {
            if (typeof msg !== "string") throw new Error("Espruino's dgram send takes a string");
            const data = Buffer.from(msg, "latin1");
            queue.push({ data, port, address });
            octets += UDP_HEADER + data.length;
            maxQueued = Math.max(maxQueued, queue.length);
            maxQueuedOctets = Math.max(maxQueuedOctets, octets);
            if (queue.length === 1) setImmediate(flush);
          },
          close: () => {
            closing = true;
            if (queue.length === 0) end();
          },
        };
        return socket;
      },
    };
    const context = vm.createContext({
      console: {
        log: (text: unknown) => {
          lines.push(String(text));
          if (text === "finished" || text === "failed") setImmediate(() => finish(text === "finished"));
        },
      },
      E: {
        toString: (u8: Uint8Array) => String.fromCharCode.apply(null, Array.from(u8)),
        // A string's octets: Espruino keeps a string with characters beyond ASCII as UTF-8.
        toUint8Array: (s: string) => new Uint8Array(Buffer.from(s, "utf8")),
        // A string of UTF-8 octets (one per character) as the text they encode.
        asUTF8: (s: string) => Buffer.from(s, "latin1").toString("utf8"),
        // A datagram's string (one octet per character) as an ArrayBuffer.
        toArrayBuffer: (s: string) => new Uint8Array(Buffer.from(s, "latin1")).buffer,
      },
      getTime: () => performance.now() / 1000,
      // As Espruino's: the arguments after the interval are handed to the function.
      setInterval: (fn: (...args: unknown[]) => void, ms: number, ...args: unknown[]) => {
        const t = setInterval(fn, ms, ...args);
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
