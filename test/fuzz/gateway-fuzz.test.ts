import { describe, expect, it } from "vitest";
import { decode, MsgType, type Bytes } from "../../protocol";
import { systemHas } from "../support/system";
import { DatagramStream, type Datagram } from "./datagrams";
import type { FuzzWorld } from "./messages";
import { runFuzz } from "./run-fuzz";

/**
 * The slice of `npm run fuzz` run in CI: about 7 s for a healthy gateway on a loaded 2-core machine (load
 * average 9), and under 90 s even for a gateway ten times slower.
 */
const CI_DATAGRAMS = 100_000;

const world: FuzzWorld = {
  sources: 20,
  clientIds: Array.from({ length: 30 }, (_, i) => `fz-${i}`),
  predefinedIds: [1, 2, 50],
};

function take(seed: string, n: number): Datagram[] {
  const stream = new DatagramStream(seed, world);
  return Array.from({ length: n }, () => stream.next());
}

const hex = (ds: Datagram[]): string[] => ds.map((d) => `${d.source}:${Buffer.from(d.bytes).toString("hex")}`);

describe("fuzz datagram sequence", () => {
  it("is a function of the seed: the same seed sends the same datagrams from the same sources", () => {
    expect(hex(take("replay", 5000))).toEqual(hex(take("replay", 5000)));
    expect(hex(take("replay", 5000))).not.toEqual(hex(take("other", 5000)));
  });

  it("covers every message type, forwarder encapsulation, every QoS and TopicIdType, and broken frames", () => {
    const types = new Set<number>();
    const publishes = new Set<string>();
    let encapsulated = 0;
    let threeOctet = 0;
    let undecodable = 0;
    const sources = new Set<number>();
    for (const d of take("coverage", 20_000)) {
      sources.add(d.source);
      const m = decode(d.bytes as unknown as Bytes, 0, d.bytes.length);
      if (m.type === "error") {
        undecodable++;
        continue;
      }
      if (d.bytes[0] === 0x01) threeOctet++;
      const inner = m.type === MsgType.Encapsulated ? m.message : m;
      if (m.type === MsgType.Encapsulated) encapsulated++;
      types.add(inner.type);
      if (inner.type === MsgType.Publish) publishes.add(`${inner.qos}/${inner.topicIdType}`);
    }
    const everyType = [
      0x00, 0x01, 0x02, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x12, 0x13, 0x14,
      0x15, 0x16, 0x17, 0x18, 0x1a, 0x1b, 0x1c, 0x1d,
    ];
    expect([...types].sort((a, b) => a - b)).toEqual(everyType);
    expect([...publishes].sort()).toEqual([
      "-1/0",
      "-1/1",
      "-1/2",
      "0/0",
      "0/1",
      "0/2",
      "1/0",
      "1/1",
      "1/2",
      "2/0",
      "2/1",
      "2/2",
    ]);
    expect(sources.size).toBe(world.sources);
    expect(encapsulated).toBeGreaterThan(100);
    expect(threeOctet).toBeGreaterThan(100);
    expect(undecodable).toBeGreaterThan(1000);
  });
});

describe.skipIf(!systemHas(["mosquitto"], "sudo apt-get install -y mosquitto"))(
  "the mqttsn-gateway command under fuzzed datagrams, with Mosquitto",
  () => {
    it(`keeps running through ${CI_DATAGRAMS} datagrams, then serves a new client end to end, under the RSS bound, with no exception on stderr`, async () => {
      const result = await runFuzz({
        datagrams: CI_DATAGRAMS,
        clients: 20,
        seed: "ci",
        broker: "mosquitto",
        keepGoing: false,
        maxRssMb: 400,
      });
      console.log(result.summary);
      expect(result.failures).toEqual([]);
      expect(result.crashes).toBe(0);
      expect(result.datagrams).toBe(CI_DATAGRAMS);
      expect(result.passed).toBe(true);
    }, 150_000);
  },
);
