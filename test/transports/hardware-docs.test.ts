/** The hardware guides checked against the code: config examples, command lines, file names, octets. */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseCli } from "../../gateway/cli";
import { validateConfig } from "../../gateway/config";
import { startGateway } from "../support/test-gateway";
import { systemHas } from "../support/system";
import { openSerialPeer } from "./serial-peer";
import { ptyPair } from "./support/pty";

const docs = readdirSync("hardware")
  .filter((f) => f.endsWith(".md"))
  .map((f) => ({ file: f, text: readFileSync(join("hardware", f), "utf8") }));
const allText = docs.map((d) => d.text).join("\n");

function blocks(lang: string): { file: string; body: string }[] {
  return docs.flatMap((d) =>
    [...d.text.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) => ({
      file: d.file,
      body: m[1] as string,
    })),
  );
}

describe("hardware guides", () => {
  it("exist: Raspberry Pi, NodeMCU, Espruino, serial radio, serial framing", () => {
    expect(docs.map((d) => d.file).sort()).toEqual(
      expect.arrayContaining([
        "esp-nodemcu.md",
        "espruino.md",
        "raspberry-pi.md",
        "serial-framing.md",
        "serial-radio.md",
      ]),
    );
  });

  it("every JSON config example passes the gateway's validation", () => {
    const json = blocks("json");
    expect(json.length).toBeGreaterThanOrEqual(3);
    for (const b of json) expect(() => validateConfig(JSON.parse(b.body)), b.file).not.toThrow();
  });

  it("every gateway command line parses (except those reading a config file)", () => {
    const lines = [...allText.matchAll(/(?:mqttsn-gateway(?:\.js)?) ((?:--[a-z-]+ [^\s`]+ ?)+)/g)].map((m) =>
      (m[1] as string).trim(),
    );
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) {
      if (line.includes("--config")) continue;
      expect(() => parseCli(line.split(/\s+/)), line).not.toThrow();
    }
  });

  it("names only files that exist in the project or that the builds produce", () => {
    const paths = new Set(
      [
        ...allText.matchAll(
          /\b((?:hardware|dist|test|bin|transports|device-client)\/[\w./-]+\.(?:md|js|lua|ts|rules|service))\b/g,
        ),
      ].map((m) => m[1] as string),
    );
    expect(paths.size).toBeGreaterThan(5);
    const builds = [
      "scripts/build-device-lua.mjs",
      "scripts/build-device-espruino.mjs",
      "scripts/build-lua.mjs",
      "scripts/build-espruino.mjs",
    ]
      .filter((f) => existsSync(f))
      .map((f) => readFileSync(f, "utf8"))
      .join("\n");
    for (const p of paths) {
      // dist/ is made by npm run build:lua / build:espruino: the build scripts must name the file.
      const built = p.startsWith("dist/") && builds.includes(`"${p.replace(/^dist\/(lua|espruino)\//, "")}"`);
      expect(existsSync(p) || built, p).toBe(true);
    }
  });

  it("uses only the flags of the Lua publish example", () => {
    const usage = readFileSync("device-client/examples/lua/publish.lua", "utf8");
    const known = new Set([...usage.matchAll(/--([a-z-]+)/g)].map((m) => m[1]));
    const used = [...allText.matchAll(/publish\.lua((?: --[a-z-]+ \S+)+)/g)].flatMap((m) =>
      [...(m[1] as string).matchAll(/--([a-z-]+)/g)].map((f) => f[1]),
    );
    expect(used.length).toBeGreaterThan(5);
    for (const flag of used) expect(known.has(flag), flag).toBe(true);
  });

  it("gives the Espruino and NodeMCU examples only settings they read", () => {
    const espruino = readFileSync("device-client/examples/espruino-publish.ts", "utf8");
    const nodemcu = readFileSync("device-client/examples/lua/nodemcu-publish.lua", "utf8");
    const ble = readFileSync("hardware/espruino/ble-publish.js", "utf8");
    for (const m of allText.matchAll(/MQTTSN_CONFIG = \{([^}]*)\}/g)) {
      const keys = [...(m[1] as string).matchAll(/(\w+)\s*[:=]/g)].map((k) => k[1] as string);
      for (const key of keys) {
        const readBy = [espruino, nodemcu, ble].some((src) =>
          new RegExp(`\\b(config|cfg)\\.${key}\\b|${key}:`).test(src),
        );
        expect(readBy, `MQTTSN_CONFIG key ${key}`).toBe(true);
      }
    }
  });

  it("the systemd unit starts the command that exists, with SIGTERM", () => {
    const unit = readFileSync("hardware/mqttsn-gateway.service", "utf8");
    const exec = /^ExecStart=\/usr\/bin\/node \/opt\/mqttsn\/(\S+) --config (\S+)(?: --[a-z-]+ \S+)*$/m.exec(unit);
    expect(exec?.[1]).toBe("bin/mqttsn-gateway.js");
    expect(existsSync(exec?.[1] as string)).toBe(true);
    expect(unit).toMatch(/^KillSignal=SIGTERM$/m);
    expect(unit).toMatch(/^SupplementaryGroups=dialout$/m);
  });
});

const canRun = systemHas(["socat"], "apt-get install socat");

describe.runIf(canRun)("serial-radio.md's radio check", () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it("a SLIP PINGREQ from an unknown client gets the DISCONNECT octets the guide shows", async () => {
    const pty = await ptyPair();
    cleanup.push(() => pty.dispose());
    const gateway = await startGateway({
      udp: ["127.0.0.1:0"],
      embeddedPort: 0,
      serial: [{ path: pty.a, baudRate: 9600, framing: "slip" }],
      timers: { advertiseIntervalS: 0 },
    });
    cleanup.push(() => gateway.close());
    const peer = await openSerialPeer(pty.b, "slip");
    cleanup.push(() => peer.close());
    const replies: number[] = [];
    peer.port.on("data", (chunk: Buffer) => replies.push(...chunk));
    const guide = readFileSync("hardware/serial-radio.md", "utf8");
    const ask = /printf '((?:\\x[0-9a-f]{2})+)'/.exec(guide)?.[1] as string;
    const answer = /DISCONNECT \(`([0-9A-F ]+)`\)/.exec(guide)?.[1] as string;
    await peer.writeRaw(
      Uint8Array.from(
        ask
          .split("\\x")
          .filter(Boolean)
          .map((h) => parseInt(h, 16)),
      ),
    );
    const deadline = Date.now() + 3000;
    while (replies.length < 6 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(Buffer.from(replies).toString("hex")).toBe(answer.replace(/ /g, "").toLowerCase());
  });
});
