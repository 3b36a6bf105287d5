import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { validateAccess } from "../../../gateway/access/config";
import { decideConnect, mayPublish, maySubscribe } from "../../../gateway/access/decide";
import { clientIdMatches, filterCovers, topicMatches } from "../../../gateway/access/patterns";
import { validateConfig } from "../../../gateway/config";

const UDP = "udp:0.0.0.0:1884";

describe("access patterns", () => {
  it("matches client ids exactly or with '*' standing for any run of characters", () => {
    expect(clientIdMatches("dev-1", "dev-1")).toBe(true);
    expect(clientIdMatches("dev-1", "dev-12")).toBe(false);
    expect(clientIdMatches("ok-*", "ok-")).toBe(true);
    expect(clientIdMatches("ok-*", "ok-7")).toBe(true);
    expect(clientIdMatches("ok-*", "nok-7")).toBe(false);
    expect(clientIdMatches("*-room-*", "a-room-b")).toBe(true);
    expect(clientIdMatches("*-room-*", "a-roomb")).toBe(false);
    expect(clientIdMatches("a*a", "a")).toBe(false);
    expect(clientIdMatches("*", "")).toBe(true);
  });

  it("matches topic names against filters as MQTT 3.1.1 §4.7 does", () => {
    expect(topicMatches("sensors/d1/#", "sensors/d1")).toBe(true);
    expect(topicMatches("sensors/d1/#", "sensors/d1/t")).toBe(true);
    expect(topicMatches("sensors/d1/#", "sensors/d2/t")).toBe(false);
    expect(topicMatches("sensors/+/t", "sensors/x/t")).toBe(true);
    expect(topicMatches("sensors/+/t", "sensors/x/y/t")).toBe(false);
    expect(topicMatches("#", "$SYS/x")).toBe(false);
  });

  it("lets a subscription through only when every topic it can match is inside the allowed filter", () => {
    expect(filterCovers("cmd/d1/#", "cmd/d1/#")).toBe(true);
    expect(filterCovers("cmd/d1/#", "cmd/d1/+/x")).toBe(true);
    expect(filterCovers("cmd/d1/#", "cmd/#")).toBe(false);
    expect(filterCovers("cmd/d1/#", "cmd/+/x")).toBe(false);
    expect(filterCovers("cmd/+/x", "cmd/a/x")).toBe(true);
    expect(filterCovers("cmd/+/x", "cmd/a/#")).toBe(false);
    expect(filterCovers("cmd/a", "cmd/a/b")).toBe(false);
  });
});

describe("decideConnect", () => {
  const access = validateAccess("access", {
    default: "deny",
    clients: [
      {
        clientId: "ok-*",
        from: ["udp:10.0.0.0/8", "serial:/dev/ttyUSB0"],
        username: "%c",
        password: "pw-%c",
        publish: ["sensors/%c/#"],
        subscribe: ["cmd/%c/#"],
      },
      { clientId: "v6-*", from: ["udp:[fd00::]/8"] },
      { clientId: "any" },
    ],
  });

  it("gives the first matching entry's login and filters with %c replaced", () => {
    const d = decideConnect(access, "ok-1", UDP, "10.1.2.3:5000");
    expect(d).toEqual({
      allowed: true,
      grant: {
        entry: 0,
        username: "ok-1",
        password: "pw-ok-1",
        publish: ["sensors/ok-1/#"],
        subscribe: ["cmd/ok-1/#"],
      },
    });
    expect(decideConnect(access, "ok-2", "serial:/dev/ttyUSB0", "serial").allowed).toBe(true);
    expect(decideConnect(access, "ok-2", "udp:[::]:1884", "[::ffff:10.9.9.9]:7").allowed).toBe(true);
    expect(decideConnect(access, "v6-a", "udp:[::]:1884", "[fd12::1]:7").allowed).toBe(true);
  });

  it("refuses a named client id from elsewhere, and an unnamed one under default deny", () => {
    expect(decideConnect(access, "ok-1", UDP, "192.168.1.2:5000")).toEqual({ allowed: false, reason: "wrong-source" });
    expect(decideConnect(access, "ok-1", "serial:/dev/ttyUSB1", "serial")).toEqual({
      allowed: false,
      reason: "wrong-source",
    });
    expect(decideConnect(access, "v6-a", "udp:[::]:1884", "[fe80::1]:7").allowed).toBe(false);
    expect(decideConnect(access, "stranger", UDP, "10.0.0.1:1")).toEqual({ allowed: false, reason: "unknown-client" });
    expect(decideConnect(access, "any", UDP, "1.2.3.4:1")).toEqual({ allowed: true, grant: { entry: 2 } });
  });

  it("admits an unnamed client id under default allow with no restriction", () => {
    const open = validateAccess("access", { default: "allow", clients: [] });
    const d = decideConnect(open, "whoever", UDP, "1.2.3.4:1");
    expect(d).toEqual({ allowed: true, grant: { entry: undefined } });
    expect(mayPublish(d.allowed ? d.grant : undefined, "any/topic")).toBe(true);
  });

  it("checks topics against the grant", () => {
    const d = decideConnect(access, "ok-1", UDP, "10.1.2.3:5000");
    const grant = d.allowed ? d.grant : undefined;
    expect(mayPublish(grant, "sensors/ok-1/t")).toBe(true);
    expect(mayPublish(grant, "sensors/ok-2/t")).toBe(false);
    expect(maySubscribe(grant, "cmd/ok-1/#")).toBe(true);
    expect(maySubscribe(grant, "cmd/#")).toBe(false);
  });
});

describe("mountpoints", () => {
  const access = validateAccess("access", {
    clients: [{ clientId: "m-*", mountpoint: "site/%c/" }, { clientId: "plain" }],
    mountpoints: [{ from: "serial:/dev/ttyUSB0", mountpoint: "radio-a/" }],
  });

  it("takes the entry's, else the first link rule that holds the client, with %c replaced", () => {
    expect(decideConnect(access, "m-1", "serial:/dev/ttyUSB0", "serial")).toMatchObject({
      grant: { mountpoint: "site/m-1/" },
    });
    expect(decideConnect(access, "plain", "serial:/dev/ttyUSB0", "serial")).toMatchObject({
      grant: { mountpoint: "radio-a/" },
    });
    expect(decideConnect(access, "other", "serial:/dev/ttyUSB0", "serial")).toMatchObject({
      grant: { mountpoint: "radio-a/" },
    });
    const d = decideConnect(access, "plain", UDP, "10.0.0.1:1");
    expect(d.allowed && d.grant.mountpoint).toBeUndefined();
  });
});

describe("access config validation", () => {
  const bad = (value: unknown): string => {
    try {
      validateConfig({ access: value });
    } catch (err) {
      return (err as Error).message;
    }
    return "accepted";
  };

  it("names the key, the value and what is allowed", () => {
    expect(bad({ default: "maybe" })).toMatch(/access\.default = "maybe".*"allow" or "deny"/);
    expect(bad({ clients: [{ clientId: "" }] })).toMatch(/access\.clients\[0\]\.clientId = ""/);
    expect(bad({ clients: [{ clientId: "a", from: ["udp:10.0.0.0/33"] }] })).toMatch(
      /access\.clients\[0\]\.from\[0\] = "udp:10\.0\.0\.0\/33".*"udp:10\.0\.0\.0\/8"/,
    );
    expect(bad({ clients: [{ clientId: "a", from: ["serial:ttyUSB0"] }] })).toMatch(/from\[0\] = "serial:ttyUSB0"/);
    expect(bad({ clients: [{ clientId: "a", publish: ["a/#/b"] }] })).toMatch(
      /access\.clients\[0\]\.publish\[0\] = "a\/#\/b".*topic filters/,
    );
    expect(bad({ clients: [{ clientId: "a", subscribe: ["a/b+"] }] })).toMatch(/subscribe\[0\] = "a\/b\+"/);
    expect(bad({ clients: [{ clientId: "a", passwordFile: "/nonexistent/pw" }] })).toMatch(
      /access\.clients\[0\]\.passwordFile = "\/nonexistent\/pw".*a readable file/,
    );
    expect(bad({ clients: [{ clientId: "a", mountpoint: "a/#" }] })).toMatch(/clients\[0\]\.mountpoint = "a\/#"/);
    expect(bad({ mountpoints: [{ from: "udp:not-an-ip", mountpoint: "a/" }] })).toMatch(
      /mountpoints\[0\]\.from = "udp:not-an-ip"/,
    );
    expect(bad({ clients: [{ clientId: "a", certFile: "/etc/hostname" }] })).toMatch(
      /clients\[0\]\.keyFile.*certFile and keyFile together/,
    );
    expect(bad({ clients: [{ clientId: "a", certFile: "/nonexistent/c.pem", keyFile: "/etc/hostname" }] })).toMatch(
      /clients\[0\]\.certFile = "\/nonexistent\/c\.pem".*a readable file/,
    );
    expect(bad({ clients: [{ clientId: "a", colour: "red" }] })).toMatch(/access\.clients\[0\]\.colour.*no such key/);
  });

  it("reads passwordFile when the config is loaded, without its trailing line break", () => {
    const dir = mkdtempSync(join(tmpdir(), "access-"));
    const file = join(dir, "pw");
    writeFileSync(file, "s3cret\n");
    const config = validateConfig({ access: { clients: [{ clientId: "a", username: "u", passwordFile: file }] } });
    const d = decideConnect(config.access!, "a", UDP, "1.2.3.4:1");
    expect(d).toEqual({ allowed: true, grant: { entry: 0, username: "u", password: "s3cret" } });
    // A checked config checks again (flags are merged over it) and reads the file anew.
    writeFileSync(file, "changed\n");
    const again = validateConfig({ access: config.access });
    expect(decideConnect(again.access!, "a", UDP, "1.2.3.4:1")).toMatchObject({ grant: { password: "changed" } });
  });

  it("leaves access out when the key is absent", () => {
    expect(validateConfig({}).access).toBeUndefined();
  });
});
