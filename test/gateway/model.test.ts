import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { commands, setups, type Model } from "./support/commands";
import { newTally } from "./support/tally";
import { World } from "./support/world";

/**
 * Model-based test of the session machine and the shell together: the real gateway (startGateway) with
 * a memory link, a fake clock, a fake broker that keeps MQTT 3.1.1 sessions, and a disk that outlives
 * kill -9 of the gateway. Random command lists (device CONNECT / DISCONNECT / sleep / wake / answers,
 * SUBSCRIBE, will updates, broker publishes, CONNACKs and dropped connections, time, disk writes, crash
 * and restart) are checked after every command and at the end (see World.check and World.finish).
 * Seeds are random; a failure prints its seed and path, and fc.assert's `seed` and `path` replay it.
 * MODEL_RUNS and MODEL_COMMANDS (default 100 runs of up to 40 commands) make longer searches.
 */

const RUNS = Number(process.env.MODEL_RUNS ?? 100);
const COMMANDS = Number(process.env.MODEL_COMMANDS ?? 40);
const tally = newTally();

describe("gateway session model: custody of broker messages across sleep, takeover, refetch and restart", () => {
  afterAll(() => {
    console.info(`model test: ${JSON.stringify(tally)}`);
  });

  it("never loses a message it acknowledged upstream, delivers every guarded message in the end, and resumes sleepers as they were", async () => {
    await fc.assert(
      fc.asyncProperty(setups, fc.commands(commands, { maxCommands: COMMANDS, size: "max" }), async (setup, cmds) => {
        const world = await World.create(tally, setup);
        try {
          await world.begin();
          await fc.asyncModelRun(() => ({ model: {} as Model, real: world }), cmds);
          await world.finish();
        } finally {
          await world.close();
        }
      }),
      { numRuns: RUNS },
    );
    // The runs must have exercised what the property is about, or it proves nothing.
    expect(tally.acknowledgedUpstream).toBeGreaterThan(0);
    expect(tally.heldInStore).toBeGreaterThan(0);
    expect(tally.crashesWithStoredMessages).toBeGreaterThan(0);
    expect(tally.deferred).toBeGreaterThan(0);
  }, 300_000);
});
