/** The gateway command's log as an operator sees it: throttled per subject, foreign output wrapped. */
import { afterEach, describe, expect, it } from "vitest";
import { startGatewayCommand, type StartedGateway } from "../support/gateway-command";

const running: StartedGateway[] = [];
afterEach(async () => {
  for (const g of running.splice(0)) await g.stop();
});

async function start(args: string[], config?: object): Promise<StartedGateway> {
  const g = await startGatewayCommand({
    args: ["--udp", "127.0.0.1:0", "--embedded-port", "0", ...args],
    ...(config !== undefined ? { config } : {}),
  });
  running.push(g);
  return g;
}

describe("gateway log", () => {
  it("logs each of two missing serial ports at the default level, not only the first", async () => {
    const a = `/dev/mqttsn-missing-${process.pid}-a`;
    const b = `/dev/mqttsn-missing-${process.pid}-b`;
    const g = await start(["--serial", a, "--serial", b]);
    const failed = (path: string) => () =>
      g.records().some((r) => r.event === "serial-open-failed" && r.link === `serial:${path}`);
    await g.waitFor(`serial-open-failed for ${a}`, failed(a));
    await g.waitFor(`serial-open-failed for ${b}`, failed(b));
    expect(g.records().every((r) => r.level === "warn" || r.level === "error")).toBe(true);
    expect(g.foreignOutput()).toEqual([]);
  });

  // The real @stoprocent/noble, pointed at an HCI device that does not exist (NOBLE_HCI_DEVICE_ID=99),
  // prints a three-line warning with console.log. It must arrive as one JSON record, not as raw lines on
  // stdout or stderr.
  it("wraps the multi-line console output of @stoprocent/noble into one JSON record", async () => {
    process.env.NOBLE_HCI_DEVICE_ID = "99";
    const g = await start([], { ble: { peripherals: [{ name: "Puck.js 1a2b" }] } }).finally(
      () => delete process.env.NOBLE_HCI_DEVICE_ID,
    );
    await g.waitFor("noble's warning as a log record", () => g.records().some((r) => r.event === "library-output"));
    const record = g.records().find((r) => r.event === "library-output");
    expect(record).toMatchObject({ level: "warn", library: "@stoprocent/noble" });
    const text = record?.text as string;
    expect(text).toMatch(/^noble warning: /);
    expect(text.split("\n").length).toBeGreaterThan(1);
    expect(g.foreignOutput()).toEqual([]);
    expect(g.stdout()).toBe(`${g.readyLine}\n`);
  });
});
