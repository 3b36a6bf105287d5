import { describe, expect, it } from "vitest";
import { createLog, throttled, withoutPassword } from "../../gateway/log";
import type { Log } from "../../transports/link";
import { callingPackage, captureConsole } from "../../transports/console-capture";

/** A log writing its JSON lines into an array, parsed. */
function collected(level: Parameters<typeof createLog>[0]) {
  const lines: string[] = [];
  const log = createLog(level, (line) => lines.push(line));
  const records = (): Array<Record<string, unknown>> => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { log, lines, records };
}

type Entry = [string, string, Record<string, unknown> | undefined];

/** A Log that keeps what it was given: level, event, fields. */
function recorder(): { log: Log; entries: Entry[] } {
  const entries: Entry[] = [];
  const at =
    (level: string) =>
    (event: string, fields?: Record<string, unknown>): void => {
      entries.push([level, event, fields]);
    };
  return { log: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") }, entries };
}

describe("createLog (pino)", () => {
  it("writes one JSON line per record: level label, ISO time, event, the fields", () => {
    const { log, lines, records } = collected("info");
    log.info("session-state", { clientId: "c1", from: "connecting", to: "active" });
    log.debug("hidden", {});
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith("\n")).toBe(true);
    const [r] = records();
    expect(r).toMatchObject({
      level: "info",
      event: "session-state",
      clientId: "c1",
      from: "connecting",
      to: "active",
    });
    expect(new Date(r?.time as string).toISOString()).toBe(r?.time);
    expect(Object.keys(r ?? {})).not.toContain("pid");
  });

  it("skips records below the level, and follows setLevel at once", () => {
    const { log, records } = collected("warn");
    log.info("before", {});
    log.warn("kept", {});
    log.setLevel("debug");
    log.debug("after", {});
    log.setLevel("silent");
    log.error("silenced", {});
    expect(records().map((r) => `${r.level as string} ${r.event as string}`)).toEqual(["warn kept", "debug after"]);
  });

  it("child logs carry their bindings in every record", () => {
    const { log, records } = collected("info");
    const child = log.child({ link: "serial:/dev/ttyUSB0" });
    child.warn("serial-lost", { error: "gone" });
    child.child({ attempt: 2 }).info("serial-reopened");
    expect(records()).toMatchObject([
      { level: "warn", event: "serial-lost", link: "serial:/dev/ttyUSB0", error: "gone" },
      { level: "info", event: "serial-reopened", link: "serial:/dev/ttyUSB0", attempt: 2 },
    ]);
  });

  it("redacts passwords, nested ones too, and the password in a broker URL", () => {
    const { log, lines } = collected("info");
    log.warn("config", {
      password: "hunter2",
      upstream: { username: "gw", password: "hunter2" },
      broker: "mqtts://gw:hunter2@broker.example:8883",
      url: "mqtt://broker.example:1883",
    });
    expect(lines.join("")).not.toContain("hunter2");
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      password: "[redacted]",
      upstream: { username: "gw", password: "[redacted]" },
      broker: "mqtts://gw:[redacted]@broker.example:8883",
      url: "mqtt://broker.example:1883",
    });
  });

  it("withoutPassword leaves URLs without a password and other values as they are", () => {
    expect(withoutPassword("mqtt://gw@h:1883")).toBe("mqtt://gw@h:1883");
    expect(withoutPassword("not a url @ all")).toBe("not a url @ all");
    expect(withoutPassword(42)).toBe(42);
  });
});

describe("throttled", () => {
  it("throttles per event and subject: two serial ports are both logged, each once per interval", () => {
    const { log, entries } = recorder();
    let t = 0;
    const gate = throttled(log, 1000, () => t);
    for (let i = 0; i < 3; i++) {
      gate.warn("serial-open-failed", { link: "serial:/dev/ttyUSB0", error: "ENOENT" });
      gate.warn("serial-open-failed", { link: "serial:/dev/ttyUSB1", error: "ENOENT" });
    }
    t = 1000;
    gate.warn("serial-open-failed", { link: "serial:/dev/ttyUSB1", error: "ENOENT" });
    expect(entries).toEqual([
      ["warn", "serial-open-failed", { link: "serial:/dev/ttyUSB0", error: "ENOENT" }],
      ["warn", "serial-open-failed", { link: "serial:/dev/ttyUSB1", error: "ENOENT" }],
      ["warn", "serial-open-failed", { link: "serial:/dev/ttyUSB1", error: "ENOENT", suppressed: 2 }],
    ]);
  });

  it("tells client ids, limits and paths apart; the same subject is held back and counted", () => {
    const { log, entries } = recorder();
    let t = 0;
    const gate = throttled(log, 1000, () => t);
    gate.warn("limit-hit", { clientId: "a", limit: "limits.maxInflight" });
    gate.warn("limit-hit", { clientId: "a", limit: "limits.maxInflight" });
    gate.warn("limit-hit", { clientId: "a", limit: "limits.maxTopicsPerClient" });
    gate.warn("limit-hit", { clientId: "b", limit: "limits.maxInflight" });
    gate.error("store-failed", { clientId: "a", op: "addMessage" });
    gate.error("store-failed", { clientId: "a", op: "putSession" });
    gate.info("session-state", { clientId: "a" });
    gate.info("session-state", { clientId: "a" });
    t = 5000;
    gate.warn("limit-hit", { clientId: "a", limit: "limits.maxInflight" });
    expect(entries.map(([level, event, f]) => `${level} ${event} ${JSON.stringify(f)}`)).toEqual([
      'warn limit-hit {"clientId":"a","limit":"limits.maxInflight"}',
      'warn limit-hit {"clientId":"a","limit":"limits.maxTopicsPerClient"}',
      'warn limit-hit {"clientId":"b","limit":"limits.maxInflight"}',
      'error store-failed {"clientId":"a","op":"addMessage"}',
      'error store-failed {"clientId":"a","op":"putSession"}',
      'info session-state {"clientId":"a"}',
      'info session-state {"clientId":"a"}',
      'warn limit-hit {"clientId":"a","limit":"limits.maxInflight","suppressed":1}',
    ]);
  });

  it("bounds one event across subjects per interval and reports the others held back", () => {
    const { log, entries } = recorder();
    let t = 0;
    const gate = throttled(log, 1000, () => t, { perEvent: 3, subjects: 100 });
    for (let i = 0; i < 10; i++) gate.warn("wake-ignored", { clientId: `c${i}` });
    expect(entries.map((e) => e[2]?.clientId)).toEqual(["c0", "c1", "c2"]);
    t = 1000;
    gate.warn("wake-ignored", { clientId: "c9" });
    expect(entries[3]).toEqual(["warn", "wake-ignored", { clientId: "c9", suppressedOthers: 7 }]);
  });

  it("remembers a bounded number of subjects, forgetting the one passed longest ago", () => {
    const { log, entries } = recorder();
    const gate = throttled(log, 1000, () => 0, { perEvent: 1000, subjects: 2 });
    gate.warn("e", { clientId: "a" });
    gate.warn("e", { clientId: "b" });
    gate.warn("e", { clientId: "c" });
    gate.warn("e", { clientId: "a" });
    gate.warn("e", { clientId: "c" });
    expect(entries.map((e) => e[2]?.clientId)).toEqual(["a", "b", "c", "a"]);
  });
});

describe("captureConsole", () => {
  it("turns a burst of console lines into one record, and puts the console back", async () => {
    const { log, entries } = recorder();
    const original = console.log;
    const release = captureConsole(log);
    try {
      console.log("noble warning: adapter state unauthorized, please run as root or with sudo");
      console.log("               or see README for information on running without root/sudo:");
      console.error("bad %s", "thing");
      await new Promise((r) => setImmediate(r));
      console.warn("later");
      console.debug("detail", { a: 1 });
    } finally {
      release();
    }
    expect(console.log).toBe(original);
    expect(entries).toEqual([
      [
        "warn",
        "library-output",
        {
          library: "unknown",
          text:
            "noble warning: adapter state unauthorized, please run as root or with sudo\n" +
            "               or see README for information on running without root/sudo:",
        },
      ],
      ["error", "library-output", { library: "unknown", text: "bad thing" }],
      ["warn", "library-output", { library: "unknown", text: "later" }],
      ["debug", "library-output", { library: "unknown", text: "detail { a: 1 }" }],
    ]);
  });

  it("names the package from the call's stack", () => {
    const stack = [
      "Error",
      "    at console.log (/work/main/transports/console-capture.ts:40:24)",
      "    at NobleBindings.onStateChange (/opt/mqttsn/node_modules/@stoprocent/noble/lib/hci-socket/bindings.js:218:13)",
      "    at Hci.emit (node:events:519:28)",
    ].join("\n");
    expect(callingPackage(stack)).toBe("@stoprocent/noble");
    const own = "Error\n    at console.warn (/work/main/transports/console-capture.ts:40:24)\n";
    expect(callingPackage(`${own}    at x (/a/node_modules/debug/src/node.js:1:1)`)).toBe("debug");
    expect(
      callingPackage(`${own}    at x (/work/main/gateway/gateway.ts:1:1)\n    at y (/a/node_modules/z/i.js:1:1)`),
    ).toBe(undefined);
  });
});
