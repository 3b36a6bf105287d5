/**
 * The README's usage line `--udp 0.0.0.0:P --udp [::]:P` on Linux defaults (net.ipv6.bindv6only = 0): two
 * listeners side by side, the [::] one IPv6 only, each serving its own family.
 */
import { createSocket } from "node:dgram";
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { ReturnCode } from "../../protocol";
import { startGatewayCommand, type StartedGateway } from "../support/gateway-command";
import { SnClient } from "../support/sn-client";

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const dualStackByDefault = readFileSync("/proc/sys/net/ipv6/bindv6only", "utf8").trim() === "0";

/** A UDP port free in both families right now: a dual-stack socket on [::] holds it for both, then lets go. */
async function freeDualStackPort(): Promise<number> {
  const socket = createSocket({ type: "udp6", ipv6Only: false });
  await new Promise<void>((resolve) => socket.bind(0, "::", () => resolve()));
  const port = socket.address().port;
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

async function gatewayOn(udp: string[]): Promise<StartedGateway> {
  const gateway = await startGatewayCommand({
    args: [...udp.flatMap((u) => ["--udp", u]), "--embedded-port", "0", "--log-level", "info"],
  });
  cleanup.push(() => gateway.stop());
  return gateway;
}

async function connected(gateway: string, clientId: string): Promise<void> {
  const client = await SnClient.open(gateway);
  cleanup.push(() => client.close());
  expect(await client.connect(clientId)).toBe(ReturnCode.Accepted);
}

/** The session key (link and address) the gateway logged for a client that became active. */
function keyOf(gateway: StartedGateway, clientId: string): string {
  const record = gateway
    .records()
    .find((r) => r.event === "session-state" && r.clientId === clientId && r.to === "active");
  return String(record?.key);
}

describe("UDP on 0.0.0.0:P and [::]:P at once", () => {
  it("starts, and serves an IPv4 client on the IPv4 listener and an IPv6 client on the IPv6 one", async () => {
    const port = await freeDualStackPort();
    const gateway = await gatewayOn([`0.0.0.0:${port}`, `[::]:${port}`]);
    expect(gateway.readyLine).toContain(`udp 0.0.0.0:${port}, udp [::]:${port}`);
    await connected(`127.0.0.1:${port}`, "dual-v4");
    await connected(`[::1]:${port}`, "dual-v6");
    await gateway.waitFor("both sessions logged", () => keyOf(gateway, "dual-v6") !== "undefined");
    expect(keyOf(gateway, "dual-v4")).toMatch(new RegExp(`^udp:0\\.0\\.0\\.0:${port}.*127\\.0\\.0\\.1:`));
    expect(keyOf(gateway, "dual-v6")).toMatch(new RegExp(`^udp:\\[::\\]:${port}.*\\[::1\\]:`));
    expect(gateway.foreignOutput()).toEqual([]);
  });

  it("the order of the flags does not matter", async () => {
    const port = await freeDualStackPort();
    const gateway = await gatewayOn([`[::]:${port}`, `0.0.0.0:${port}`]);
    await connected(`[::1]:${port}`, "order-v6");
    await connected(`127.0.0.1:${port}`, "order-v4");
    await gateway.waitFor("the IPv4 session logged", () => keyOf(gateway, "order-v4") !== "undefined");
    expect(keyOf(gateway, "order-v4")).toMatch(new RegExp(`^udp:0\\.0\\.0\\.0:${port}`));
  });

  // Only where the system's default makes a [::] socket dual-stack (Debian's, and Linux's own).
  it.runIf(dualStackByDefault)(
    "[::]:P alone stays dual-stack: it serves IPv4 clients too, as IPv4-mapped addresses",
    async () => {
      const port = await freeDualStackPort();
      const gateway = await gatewayOn([`[::]:${port}`]);
      await connected(`127.0.0.1:${port}`, "mapped-v4");
      await connected(`[::1]:${port}`, "alone-v6");
      await gateway.waitFor("the IPv4 session logged", () => keyOf(gateway, "mapped-v4") !== "undefined");
      expect(keyOf(gateway, "mapped-v4")).toMatch(new RegExp(`^udp:\\[::\\]:${port}.*\\[::ffff:127\\.0\\.0\\.1\\]:`));
    },
  );
});
