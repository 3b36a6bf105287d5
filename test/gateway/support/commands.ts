import fc from "fast-check";
import type { ConnectAnswer } from "./fake-broker";
import { CLIENT_IDS, FILTERS, SLEEP_GRACE_MS, TIMERS, TOPICS, type Setup } from "./setup";
import type { World } from "./world";

/** The model of fast-check's model run: the World keeps all state, so commands apply in any state. */
export type Model = object;

/** What catches up after a command: the disk with the writes issued, the broker with the CONNECTs waiting. */
export interface CatchUp {
  disk: boolean;
  connacks: boolean;
}

/**
 * One command: a label (shown in a failing run's command list) and what it does to the World. Then,
 * as `catchUp` says, the disk writes what was issued (otherwise the writes wait for settleDisk, or for a
 * crash to lose them) and the broker accepts the CONNECTs waiting (otherwise they wait for brokerAnswers
 * or time out).
 */
export class Step implements fc.AsyncCommand<Model, World> {
  constructor(
    readonly label: string,
    private readonly act: (w: World) => void | Promise<void>,
    private readonly catchUp: CatchUp = { disk: true, connacks: true },
  ) {}

  check(): boolean {
    return true;
  }

  async run(_m: Model, w: World): Promise<void> {
    await w.perform(this.toString(), () => this.act(w), this.catchUp);
  }

  with(catchUp: CatchUp): Step {
    return new Step(this.label, this.act, catchUp);
  }

  toString(): string {
    const waits = [this.catchUp.disk ? "" : "disk waits", this.catchUp.connacks ? "" : "CONNACKs wait"];
    const note = waits.filter((w) => w !== "").join(", ");
    return note === "" ? this.label : `${this.label} [${note}]`;
  }
}

/** Skewed towards d0, so that one device often goes through a whole connect, sleep, wake cycle in a run. */
const device = fc.constantFrom(0, 0, 0, 1, 1, 2);
const answerMode = fc.constantFrom("sync" as const, "after" as const, "after" as const, "later" as const);
const name = (i: number): string => CLIENT_IDS[i] as string;

const connect = fc
  .record({
    i: device,
    clean: fc.constantFrom(false, false, false, true),
    at: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined, freq: 3 }),
    will: fc.boolean(),
    answer: answerMode,
    keepAlive: fc.constantFrom(0, 10),
  })
  .map(
    (o) =>
      new Step(
        `connect(${name(o.i)}, clean=${o.clean ? 1 : 0}${o.at === undefined ? "" : `, at=A${o.at}`}${o.will ? ", will" : ""}, answer=${o.answer}, keepAlive=${o.keepAlive})`,
        (w) => w.connect(o.i, o),
      ),
  );

const disconnect = fc
  .record({ i: device, duration: fc.constantFrom(undefined, 5, 30, 300, 300) })
  .map(
    (o) =>
      new Step(`disconnect(${name(o.i)}${o.duration === undefined ? "" : `, sleep ${o.duration} s`})`, (w) =>
        w.disconnect(o.i, o.duration),
      ),
  );

const wake = fc
  .record({ i: device, moved: fc.boolean() })
  .map((o) => new Step(`wake(${name(o.i)}${o.moved ? ", from a new address" : ""})`, (w) => w.wake(o.i, o.moved)));

const answer = fc
  .record({ i: device, pick: fc.nat({ max: 3 }) })
  .map((o) => new Step(`answer(${name(o.i)}, newest-${o.pick})`, (w) => void w.answer(o.i, o.pick)));

const answerAll = device.map((i) => new Step(`answerAll(${name(i)})`, (w) => void w.answerAll(i)));

const subscribe = fc
  .record({ i: device, filter: fc.constantFrom(...FILTERS), qos: fc.constantFrom(1 as const, 2 as const) })
  .map((o) => new Step(`subscribe(${name(o.i)}, ${o.filter}, q${o.qos})`, (w) => w.subscribe(o.i, o.filter, o.qos)));

const updateWill = fc
  .record({ i: device, answer: answerMode })
  .map((o) => new Step(`updateWill(${name(o.i)}, answer=${o.answer})`, (w) => w.updateWill(o.i, o.answer)));

const publish = fc
  .record({
    topic: fc.constantFrom(...TOPICS),
    qos: fc.constantFrom(0 as const, 1 as const, 1 as const, 2 as const),
  })
  .map((o) => new Step(`publish(${o.topic}, q${o.qos})`, (w) => w.publish(o.topic, o.qos)));

const brokerAnswers = fc
  .record({ i: device, answer: fc.constantFrom<ConnectAnswer>("ok", "ok", "ok", "refused", "unreachable") })
  .map((o) => new Step(`brokerAnswers(${name(o.i)}, ${o.answer})`, (w) => void w.answerBroker(o.i, o.answer)));

const brokerDrops = device.map((i) => new Step(`brokerDrops(${name(i)})`, (w) => w.dropUpstream(i)));

/** Moves that matter: less than a retry, a retry, an upstream CONNECT timeout, a keep-alive or short sleep, a long sleep. */
const advance = fc
  .constantFrom(300, TIMERS.tRetryMs, TIMERS.upstreamConnectTimeoutMs, 5000 + SLEEP_GRACE_MS, 16_000, 40_000)
  .map((ms) => new Step(`advance(${ms} ms)`, (w) => w.advance(ms)));

const settleDisk = fc
  .constantFrom(1, 2, Infinity)
  .map((n) => new Step(`settleDisk(${n === Infinity ? "all" : n})`, (w) => w.settleDisk(n)));

const crash = fc.nat({ max: 3 }).map(
  (n) =>
    new Step(`crashAndRestart(first ${n} waiting writes reach the disk)`, async (w) => {
      await w.crashAndRestart(n);
      w.checkResumed();
    }),
);

/** How a run starts: with or without a store, queues of 1, 3 or 8, each device offline, connected or asleep. */
export const setups: fc.Arbitrary<Setup> = fc.record({
  durable: fc.constantFrom(true, true, true, false),
  queueLimit: fc.constantFrom(1, 3, 3, 8),
  starts: fc.array(fc.constantFrom("offline" as const, "active" as const, "asleep" as const), {
    minLength: CLIENT_IDS.length,
    maxLength: CLIENT_IDS.length,
  }),
});

/** Every command, weighted towards the exchanges that move messages; after one in three the disk, or the broker's CONNACKs, lag behind. */
export const commands = [
  fc
    .tuple(
      fc.oneof(
        { arbitrary: connect, weight: 5 },
        { arbitrary: disconnect, weight: 3 },
        { arbitrary: wake, weight: 3 },
        { arbitrary: answer, weight: 4 },
        { arbitrary: answerAll, weight: 3 },
        { arbitrary: subscribe, weight: 4 },
        { arbitrary: updateWill, weight: 1 },
        { arbitrary: publish, weight: 6 },
        { arbitrary: brokerAnswers, weight: 3 },
        { arbitrary: brokerDrops, weight: 1 },
        { arbitrary: advance, weight: 3 },
        { arbitrary: settleDisk, weight: 3 },
        { arbitrary: crash, weight: 3 },
      ),
      fc.record({ disk: fc.constantFrom(true, true, false), connacks: fc.constantFrom(true, true, false) }),
    )
    .map(([step, catchUp]) => step.with(catchUp)),
];
