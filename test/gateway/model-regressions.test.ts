import { afterEach, describe, expect, it } from "vitest";
import { newTally } from "./support/tally";
import { World } from "./support/world";

/**
 * Cases found with the model test (model.test.ts), replayed as plain scenarios on the same world: the
 * real gateway on a memory link, a fake clock, the fake broker and a disk shared across a kill -9.
 * Every write the gateway issued reaches the disk before each crash here, so nothing is lost to the
 * crash itself: what a restart resumes is what the store was told.
 */

const worlds: World[] = [];

async function world(): Promise<World> {
  const w = await World.create(newTally());
  worlds.push(w);
  return w;
}

afterEach(async () => {
  for (const w of worlds.splice(0)) await w.close();
});

const D0 = 0;

describe("restart after kill -9: a resumed session is the session the client has", () => {
  it("a client that CONNECTed again with CleanSession 1 and no will is not resumed as the persistent sleeper it was", async () => {
    const w = await world();
    await w.perform("connect(d0, clean=0, will)", () =>
      w.connect(D0, { clean: false, at: undefined, will: true, answer: "sync", keepAlive: 0 }),
    );
    await w.perform("disconnect(d0, sleep 30 s)", () => w.disconnect(D0, 30));
    await w.perform("settleDisk(all)", () => w.settleDisk(Infinity));
    // §6.2 / MQTT 3.1.1 §3.1.2.4: the client starts over: no session state, no will.
    await w.perform("connect(d0, clean=1)", () =>
      w.connect(D0, { clean: true, at: undefined, will: false, answer: "sync", keepAlive: 0 }),
    );
    await w.perform("settleDisk(all)", () => w.settleDisk(Infinity));
    expect(w.gateway.store.waiting).toBe(0);

    await w.crashAndRestart(0);
    const resumed = w.connectionsOfThisProcess();
    await w.perform("brokerAnswers(d0, ok)", () => void w.answerBroker(D0, "ok"));
    await w.perform("advance(40000 ms)", () => w.advance(40_000));

    // The will the client replaced must never be published, nor its clean session made persistent again.
    expect(w.broker.wills.filter((will) => will.startsWith("d0 "))).toEqual([]);
    expect(resumed.filter((c) => c.startsWith("d0:") && c.includes("CleanSession 0"))).toEqual([]);
  });

  it("a will updated while the sleeping client is awake is the will a restart resumes it with", async () => {
    const w = await world();
    await w.perform("connect(d0, clean=0, will)", () =>
      w.connect(D0, { clean: false, at: undefined, will: true, answer: "sync", keepAlive: 0 }),
    );
    await w.perform("disconnect(d0, sleep 30 s)", () => w.disconnect(D0, 30));
    await w.perform("publish(t/a, q1)", () => w.publish("t/a", 1));
    await w.perform("settleDisk(all)", () => w.settleDisk(Infinity));
    await w.perform("wake(d0)", () => w.wake(D0, false));
    // §6.4: awake, the client updates its will; both updates are answered "accepted".
    await w.perform("updateWill(d0, answer=sync)", () => w.updateWill(D0, "sync"));
    expect(w.device(D0).recent.slice(-2)).toEqual(["type 0x1b", "type 0x1d"]);
    await w.perform("answerAll(d0)", () => void w.answerAll(D0));
    await w.perform("settleDisk(all)", () => w.settleDisk(Infinity));
    expect(w.device(D0).recent[w.device(D0).recent.length - 1]).toBe("type 0x17");
    expect(w.gateway.store.waiting).toBe(0);

    await w.crashAndRestart(0);
    expect(w.connectionsOfThisProcess()).toEqual(['d0: CleanSession 0, will will/d0/1 "gone 1"']);
  });
});

describe("restart after kill -9: a resumed session whose upstream connection fails", () => {
  it("a CleanSession 0 CONNECT after the broker refused the resumed connection still gets the messages the broker holds", async () => {
    const w = await world();
    await w.perform("connect(d0, clean=0)", () =>
      w.connect(D0, { clean: false, at: undefined, will: false, answer: "sync", keepAlive: 0 }),
    );
    await w.perform("disconnect(d0, sleep 300 s)", () => w.disconnect(D0, 300));
    await w.perform("settleDisk(all)", () => w.settleDisk(Infinity));
    await w.crashAndRestart(0);
    expect(w.connectionsOfThisProcess()).toEqual(["d0: CleanSession 0, no will"]);
    // The broker refuses the resumed connection; the message then waits at the broker for d0's next connection.
    await w.perform("brokerAnswers(d0, refused)", () => void w.answerBroker(D0, "refused"));
    await w.perform("publish(t/a, q1)", () => w.publish("t/a", 1));

    // MQTT 3.1.1 §4.4: a new connection of the client id gets what the broker holds for it.
    await w.perform("connect(d0, clean=0, answer=after)", () =>
      w.connect(D0, { clean: false, at: undefined, will: false, answer: "after", keepAlive: 0 }),
    );
    await w.perform("answerAll(d0)", () => void w.answerAll(D0));
    await w.perform("answerAll(d0)", () => void w.answerAll(D0));

    expect(w.broker.unacknowledged("d0").map((m) => m.key)).toEqual([]);
    expect([...w.device(D0).received.keys()]).toEqual(["d0|m1"]);
  });
});
