import { describe, expect, it } from "vitest";
import { sleepDeadline, wakeSource } from "../../../gateway/sleep/supervision";

describe("sleep supervision", () => {
  it("loses a sleeping client after its duration plus the grace", () => {
    expect(sleepDeadline(1_000, 60, 5_000)).toBe(66_000);
    expect(sleepDeadline(0, 0, 0)).toBe(0);
  });

  it("lets a PINGREQ wake a session only from its own address unless the client id may move", () => {
    const home = { link: "udp:0.0.0.0:1884", address: "10.0.0.5:5000" };
    const allow = new Set(["nbiot-1"]);
    expect(wakeSource(home, { ...home }, "sensor", allow)).toBe("same-address");
    expect(wakeSource(home, { ...home, address: "10.0.0.6:5000" }, "sensor", allow)).toBe("spoofed");
    expect(wakeSource(home, { ...home, link: "udp:[::]:1884" }, "sensor", allow)).toBe("spoofed");
    expect(wakeSource(home, { ...home, address: "10.0.0.6:5000" }, "nbiot-1", allow)).toBe("moved");
  });
});
