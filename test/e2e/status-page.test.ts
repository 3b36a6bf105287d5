import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MsgType } from "../../protocol";
import { SnClient } from "../support/sn-client";
import { systemHas } from "../support/system";
import { startHarness, type Harness } from "./helpers";

/** Debian's chromium package. */
const CHROMIUM = "/usr/bin/chromium";
const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
/**
 * Where the screenshot goes: STATUS_PAGE_SCREENSHOT names a file (docs/status-page.png is made with
 * `STATUS_PAGE_SCREENSHOT=docs/status-page.png npx vitest run test/e2e/status-page.test.ts`), otherwise a
 * temporary folder, so that a test run leaves the tree as it was.
 */
const screenshotTo = process.env.STATUS_PAGE_SCREENSHOT;

describe.runIf(systemHas(["chromium"], "sudo apt-get install -y chromium"))("the status page in Chromium", () => {
  let h: Harness;
  let browser: BrowserContext;
  let profile: string;
  const clients: SnClient[] = [];

  beforeAll(async () => {
    h = await startHarness("embedded", { http: "127.0.0.1:0" });
    profile = mkdtempSync(join(tmpdir(), "mqttsn-chromium-"));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ["--headless", ...FLAGS],
      viewport: { width: 1200, height: 900 },
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    for (const c of clients) await c.close();
    await h?.close();
    rmSync(profile, { recursive: true, force: true });
  });

  async function device(clientId: string): Promise<SnClient> {
    const c = await SnClient.open(h.address);
    clients.push(c);
    expect(await c.connect(clientId, { duration: 300 })).toBe(0);
    return c;
  }

  it("shows a connected device's client id, and no longer once it has disconnected", async () => {
    const kitchen = await device("kitchen-sensor-1");
    await kitchen.subscribe("home/kitchen/cmd", 1);
    await kitchen.subscribe("home/+/alarm", 0);
    const temperature = (await kitchen.register("home/kitchen/temperature")).topicId;
    kitchen.publish(temperature, "21.5", { qos: 1 });
    expect((await kitchen.expect(MsgType.PubAck)).returnCode).toBe(0);
    const garden = await device("garden-node-7");
    await garden.subscribe("home/garden/alarm", 1);
    garden.send({ type: MsgType.Disconnect, duration: 600 });
    await garden.expect(MsgType.Disconnect);
    await h.watcher.client.publishAsync("home/garden/alarm", "frost", { qos: 1 });
    await expect.poll(() => h.gateway.heldFor("garden-node-7")).toBe(1);

    const page = await browser.newPage();
    const url = `http://${h.gateway.httpAddress}/`;
    const answer = await page.goto(url);
    expect(answer?.status()).toBe(200);
    expect(await page.title()).toBe("MQTT-SN gateway");
    const table = page.locator("#devices tbody");
    await expect.poll(() => table.locator("td.id").allTextContents()).toContain("kitchen-sensor-1");
    const row = table.locator("tr", { hasText: "kitchen-sensor-1" });
    expect(await row.locator("td").nth(3).textContent()).toBe("active");
    expect(await row.textContent()).toContain("home/kitchen/cmd");
    const sleeper = table.locator("tr", { hasText: "garden-node-7" });
    expect(await sleeper.locator("td").nth(3).textContent()).toBe("asleep (600 s)");
    expect(await sleeper.locator("td").nth(5).textContent()).toBe("1 (22 octets)");

    const file = screenshotTo === undefined ? join(profile, "status-page.png") : resolve(screenshotTo);
    await page.screenshot({ path: file, fullPage: true });
    expect([...readFileSync(file).subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

    kitchen.send({ type: MsgType.Disconnect, duration: undefined });
    await kitchen.expect(MsgType.Disconnect);
    await page.reload();
    expect(await table.locator("td.id").allTextContents()).toEqual(["garden-node-7"]);
    await page.close();
  });
});
