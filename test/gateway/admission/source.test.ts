import { describe, expect, it } from "vitest";
import { sourceOf } from "../../../gateway/admission/source";

describe("sourceOf: the link plus the host part of the address", () => {
  it.each([
    ["udp:0.0.0.0:1884", "10.0.0.7:5000", "udp:0.0.0.0:1884 10.0.0.7"],
    ["udp:0.0.0.0:1884", "10.0.0.7:5001", "udp:0.0.0.0:1884 10.0.0.7"],
    ["udp:[::]:1884", "[2001:db8::7]:5000", "udp:[::]:1884 2001:db8::7"],
    ["udp:[::]:1884", "[::ffff:10.0.0.7]:40000", "udp:[::]:1884 ::ffff:10.0.0.7"],
    ["dtls:0.0.0.0:5684", "10.0.0.7:5001", "dtls:0.0.0.0:5684 10.0.0.7"],
    ["serial:/dev/ttyUSB0", "/dev/ttyUSB0", "serial:/dev/ttyUSB0 /dev/ttyUSB0"],
    ["ble", "aa:bb:cc:dd:ee:ff", "ble aa:bb:cc:dd:ee:ff"],
    ["ble", "aa:bb:cc:dd:ee:12", "ble aa:bb:cc:dd:ee:12"],
  ])("%s, %s → %s", (link, address, source) => {
    expect(sourceOf(link, address)).toBe(source);
  });

  it("keeps two listeners apart: the same host on two links is two sources", () => {
    expect(sourceOf("udp:0.0.0.0:1884", "10.0.0.7:5000")).not.toBe(sourceOf("udp:0.0.0.0:1885", "10.0.0.7:5000"));
  });
});
