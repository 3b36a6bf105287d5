import { MemorySessionStore } from "../../../gateway/store/memory";
import { MsgType, TopicIdType, type Message } from "../../../protocol";
import { answerTo, hear, newDevice, payloadKey, type Device } from "./devices";
import { FakeBroker, type BrokerConnection, type ConnectAnswer } from "./fake-broker";
import { killProcess, startProcess, type GatewayProcess, type Shared } from "./gateway-process";
import { ADDRESSES, CLIENT_IDS, DISK_MAX_MESSAGES, gatewayConfig, PLAIN_SETUP, type Setup } from "./setup";
import type { Tally } from "./tally";

/**
 * The world of the model test: three devices on a memory link, the real gateway (startGateway) on a
 * fake clock, a fake broker that keeps MQTT sessions, and a disk that outlives gateway processes.
 * Each command of the test is one method here; after each, the network answers, promises settle and
 * the invariants are checked (check()).
 */

/** A QoS 1/2 message queued by the broker for one client. */
interface MessageRecord {
  key: string;
  clientId: string;
  qos: 1 | 2;
  /**
   * The guarantee applies: queued for a persistent session, and neither a CleanSession 1 CONNECT of the
   * device nor the broker discarded it since. Otherwise `why` says what released it.
   */
  guarded: boolean;
  why: string | undefined;
  /** The gateway process running when the broker queued it. */
  generation: number;
}

const utf8 = new TextDecoder();

export class World {
  clock = 1_700_000_000_000;
  readonly disk = new MemorySessionStore({ maxMessages: DISK_MAX_MESSAGES });
  readonly broker = new FakeBroker();
  readonly devices: Device[] = CLIENT_IDS.map((id, i) => newDevice(id, ADDRESSES[i] as string));
  readonly records = new Map<string, MessageRecord>();
  readonly misdeliveries: string[] = [];
  readonly trace: string[] = [];
  /** Keys ever seen in the store: their custody went through the disk at some point. */
  private readonly everStored = new Set<string>();
  private readonly pastProcesses: GatewayProcess[] = [];
  private process!: GatewayProcess;
  private generation = 0;
  private nextMessage = 1;
  private nextEvicted = 1;
  private nextMoved = 1;
  /** Writes lost in crashes so far in this run. */
  private writesLost = 0;
  private readonly shared: Shared;

  private constructor(
    private readonly tally: Tally,
    private readonly setup: Setup,
  ) {
    this.shared = {
      config: gatewayConfig(setup),
      durable: setup.durable,
      disk: this.disk,
      broker: this.broker,
      now: () => this.clock,
      heard: (address, m) => this.heard(address, m),
    };
    this.broker.onDiscarded = (keys) => {
      for (const key of keys) this.release(key, "discarded by the broker (CleanSession 1)");
    };
  }

  /** A world with the gateway's first process running; begin() then brings the devices to where they start. */
  static async create(tally: Tally, setup: Setup = PLAIN_SETUP): Promise<World> {
    const w = new World(tally, setup);
    // The devices have been here before: each has a persistent session at the broker, subscribed to everything.
    for (const id of CLIENT_IDS) w.broker.seed(id, ["t/#", "ab"]);
    await w.disk.open();
    w.process = await startProcess(w.shared, 0);
    tally.runs++;
    if (setup.durable) tally.durableRuns++;
    return w;
  }

  /** Brings each device to its starting state: connected with CleanSession 0 ("active"), then asleep for 300 s ("asleep"). */
  async begin(): Promise<void> {
    const all = { disk: true, connacks: true };
    for (const [i, start] of this.setup.starts.entries()) {
      if (start === "offline") continue;
      const d = this.device(i);
      await this.perform(
        `connect(${d.clientId}, clean=0, answer=sync, keepAlive=0)`,
        () => this.connect(i, { clean: false, at: undefined, will: false, answer: "sync", keepAlive: 0 }),
        all,
      );
      if (start === "asleep")
        await this.perform(`disconnect(${d.clientId}, sleep 300 s)`, () => this.disconnect(i, 300), all);
    }
  }

  get gateway(): GatewayProcess {
    return this.process;
  }

  device(i: number): Device {
    return this.devices[i % this.devices.length] as Device;
  }

  deviceOf(clientId: string): Device {
    const d = this.devices.find((x) => x.clientId === clientId);
    if (d === undefined) throw new Error(`no device ${clientId}`);
    return d;
  }

  // ---- commands ----

  /**
   * CONNECT (with the will exchange when `will`), from the device's address or, with `at`, from another
   * one. With CleanSession 1 the device gives up every message meant for it so far, whether or not the
   * gateway goes through with the CONNECT (a lenient reading: it can only hide a loss, never invent one).
   */
  connect(
    i: number,
    o: { clean: boolean; at: number | undefined; will: boolean; answer: "sync" | "after" | "later"; keepAlive: number },
  ): void {
    const d = this.device(i);
    if (o.at !== undefined) this.move(d, ADDRESSES[o.at % ADDRESSES.length] as string);
    // MQTT 3.1.1 §3.1.2.4: the client gives up everything its session held.
    if (o.clean)
      for (const r of this.records.values())
        if (r.clientId === d.clientId) this.release(r.key, "CleanSession 1 CONNECT");
    d.prompts = [];
    this.broker.answerNextAtOnce(d.clientId, o.answer === "sync");
    this.send(d, {
      type: MsgType.Connect,
      will: o.will,
      cleanSession: o.clean,
      duration: o.keepAlive,
      clientId: d.clientId,
    });
    if (o.will && d.prompts.includes(MsgType.WillTopicReq))
      this.send(d, { type: MsgType.WillTopic, qos: 1, retain: false, willTopic: `will/${d.clientId}` });
    if (o.will && d.prompts.includes(MsgType.WillMsgReq)) this.send(d, willMsg(MsgType.WillMsg, "gone"));
    this.broker.answerNextAtOnce(d.clientId, false);
    if (o.answer === "after") this.answerBroker(i, "ok");
  }

  /** DISCONNECT; with a duration the device goes to sleep (§6.14). */
  disconnect(i: number, duration: number | undefined): void {
    const d = this.device(i);
    this.send(d, { type: MsgType.Disconnect, duration });
  }

  /**
   * PINGREQ(ClientId): the wake-up of a sleeping device (§6.14), from its address or, with `moved`, from a
   * new one (a NAT rebinding). A device never turns up without CONNECT at an address another device
   * uses: the gateway could only take it for that device, whatever it did.
   */
  wake(i: number, moved: boolean): void {
    const d = this.device(i);
    if (moved) this.move(d, `10.8.0.${this.nextMoved++}:5000`);
    this.send(d, { type: MsgType.PingReq, clientId: d.clientId });
  }

  /** Answers one message of the inbox, `pick` counting from the newest; returns whether there was one. */
  answer(i: number, pick: number): boolean {
    const d = this.device(i);
    if (d.inbox.length === 0) return false;
    const index = d.inbox.length - 1 - (pick % d.inbox.length);
    const [m] = d.inbox.splice(index, 1);
    const reply = m === undefined ? undefined : answerTo(m);
    if (reply !== undefined) this.send(d, reply);
    return true;
  }

  /** Answers everything, oldest first, including what the answers bring; returns how many answers. */
  answerAll(i: number): number {
    const d = this.device(i);
    let n = 0;
    for (let m = d.inbox.shift(); m !== undefined && n < 200; m = d.inbox.shift()) {
      const reply = answerTo(m);
      if (reply !== undefined) this.send(d, reply);
      n++;
    }
    return n;
  }

  subscribe(i: number, filter: string, qos: 1 | 2): void {
    const d = this.device(i);
    const msgId = d.nextMsgId++;
    this.send(d, {
      type: MsgType.Subscribe,
      dup: false,
      qos,
      topicIdType: TopicIdType.Normal,
      msgId,
      topicName: filter,
      topicId: 0,
    });
  }

  /** WILLTOPICUPD then WILLMSGUPD, back to back (§6.4). */
  updateWill(i: number, answer: "sync" | "after" | "later"): void {
    const d = this.device(i);
    d.willVersion++;
    this.broker.answerNextAtOnce(d.clientId, answer === "sync");
    this.send(d, {
      type: MsgType.WillTopicUpd,
      qos: 1,
      retain: false,
      willTopic: `will/${d.clientId}/${d.willVersion}`,
    });
    this.broker.answerNextAtOnce(d.clientId, answer === "sync");
    this.send(d, willMsg(MsgType.WillMsgUpd, `gone ${d.willVersion}`));
    this.broker.answerNextAtOnce(d.clientId, false);
    if (answer === "after") this.answerBroker(i, "ok");
  }

  /** A publisher publishes on a topic: every subscribed session gets a copy. */
  publish(topic: string, qos: 0 | 1 | 2): void {
    const n = this.nextMessage++;
    const queued = this.broker.publish(topic, qos, (clientId, q) => `${clientId}|${q === 0 ? "z" : "m"}${n}`);
    for (const q of queued) {
      if (q.qos === 0) continue;
      this.records.set(q.key, {
        key: q.key,
        clientId: q.clientId,
        qos: q.qos,
        guarded: q.persistent,
        why: q.persistent ? undefined : "queued for a clean session",
        generation: this.generation,
      });
    }
  }

  /** Answers the CONNECTs of this client id waiting at the broker. */
  answerBroker(i: number, answer: ConnectAnswer): number {
    const d = this.device(i);
    const waiting = this.broker.connecting(d.clientId);
    for (const conn of waiting) this.broker.answer(conn, answer);
    return waiting.length;
  }

  dropUpstream(i: number): void {
    this.broker.drop(this.device(i).clientId);
  }

  /** The clock moves by `ms`; the gateway's timer runs at every period it asked for, as a real one would. */
  advance(ms: number): void {
    const step = this.process.tickMs;
    for (let left = ms; left > 0; left -= step) {
      this.clock += Math.min(step, left);
      this.process.tick();
    }
  }

  /** The disk catches up with the first `count` writes waiting. */
  async settleDisk(count: number): Promise<void> {
    await this.process.store.settle(count);
  }

  /** kill -9 of the gateway process, then a new one on the same disk, broker and clock. */
  async crashAndRestart(persisted: number): Promise<void> {
    const dead = this.process;
    this.checkProcess(dead, "before it was killed");
    const lost = await killProcess(dead, this.broker, persisted);
    this.tally.crashes++;
    if (this.disk.usage().messages > 0) this.tally.crashesWithStoredMessages++;
    this.tally.writesLostInCrashes += lost.length;
    this.writesLost += lost.length;
    this.trace.push(`  (writes lost: ${lost.length === 0 ? "none" : lost.join(", ")})`);
    this.pastProcesses.push(dead);
    this.generation++;
    this.process = await startProcess(this.shared, this.generation);
  }

  /** The upstream connections of the running process, "clientId: CleanSession …, will …"; right after a restart, the sessions it resumed. */
  connectionsOfThisProcess(): string[] {
    const generation = this.process.upstream.generation;
    return this.broker.connections
      .filter((c) => c.owner.generation === generation)
      .map((c) => `${c.clientId}: ${describeConnection(c)}`);
  }

  /**
   * Called right after a restart: a restart resumes a sleeping persistent session as it was (§6.14), so
   * its upstream CONNECT carries CleanSession 0 and the will of the client's last accepted connection
   * before the crash. Checked only while no write has been lost in a crash (a lost write may leave an
   * older record behind: the price of kill -9, not a fault).
   */
  checkResumed(): void {
    if (this.writesLost > 0) return;
    const generation = this.process.upstream.generation;
    const all = this.broker.connections;
    for (const conn of all.filter((c) => c.owner.generation === generation)) {
      const before = all.filter((c) => c.clientId === conn.clientId && c.owner.generation < generation && c.accepted);
      const last = before[before.length - 1];
      if (last === undefined) continue;
      const was = describeConnection(last);
      const now = describeConnection(conn);
      if (was !== now)
        this.fail(
          "after the restart",
          `${conn.clientId} was resumed with ${now}, but its last connection before the crash had ${was}`,
        );
    }
  }

  // ---- running a command ----

  /**
   * Runs one command, lets the network answer and promises settle, and lets the disk and the broker's
   * CONNACKs catch up as `catchUp` says (with what they lead to); then checks the invariants.
   */
  async perform(
    label: string,
    act: () => void | Promise<void>,
    catchUp: { disk: boolean; connacks: boolean } = { disk: false, connacks: false },
  ): Promise<void> {
    this.trace.push(label);
    this.tally.commands++;
    await act();
    await this.settle();
    for (let i = 0; ; i++) {
      const disk = catchUp.disk ? this.process.store.waiting : 0;
      const connecting = catchUp.connacks ? this.broker.connecting() : [];
      if (disk === 0 && connecting.length === 0) break;
      if (i === 100) throw new Error("the disk and the broker did not settle within 100 rounds");
      for (const conn of connecting) this.broker.answer(conn, "ok");
      await this.process.store.settle(disk);
      await this.settle();
    }
    await this.check(`after ${label}`);
  }

  /** Delivers what the network holds and lets every promise settle, until nothing moves. */
  async settle(): Promise<number> {
    let total = 0;
    for (let i = 0; i < 100; i++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      const n = this.broker.runNetwork();
      total += n;
      if (n === 0) return total;
    }
    throw new Error("the network did not settle within 100 rounds");
  }

  /**
   * The invariants after every command: no fault, no message to the wrong client, never two connections
   * of one client id at the broker, no custody released twice, and every guarded message the gateway acknowledged upstream either received by its device or
   * still in the store.
   */
  async check(where: string): Promise<void> {
    this.checkProcess(this.process, where);
    if (this.misdeliveries.length > 0)
      this.fail(where, `messages reached the wrong device: ${this.misdeliveries.join("; ")}`);
    // The gateway closes a client's connection before it opens the next (gateway/upstream/upstream.ts, Upstream.open).
    if (this.broker.takeovers > 0) this.fail(where, "the broker saw two connections of one client id at once");
    if (this.broker.doubleAcks > 0) this.fail(where, `${this.broker.doubleAcks} acknowledgement(s) called twice`);
    const stored = await this.storedKeys();
    for (const key of stored) this.everStored.add(key);
    for (const r of this.records.values()) {
      if (!r.guarded || !this.broker.acknowledged.has(r.key)) continue;
      if (this.deviceOf(r.clientId).received.has(r.key)) continue;
      if (stored.has(r.key)) this.tally.heldInStore++;
      else
        this.fail(
          where,
          `${r.key} was acknowledged upstream, never reached ${r.clientId}, and is not in the store: lost`,
          r.key,
        );
    }
  }

  /**
   * The end of a run: every device CONNECTs with CleanSession 0 from an address of its own and answers
   * everything, the broker accepts every CONNECT, the disk catches up; then every guarded message must
   * have reached its device.
   */
  async finish(): Promise<void> {
    this.trace.push("finish: every device CONNECTs with CleanSession 0 and answers everything");
    await this.process.store.settle(Infinity);
    for (const d of this.devices) {
      this.move(d, `final-${d.clientId}:1`);
      this.send(d, { type: MsgType.Connect, will: false, cleanSession: false, duration: 0, clientId: d.clientId });
    }
    let quiet = false;
    for (let round = 0; round < 400 && !quiet; round++) {
      let moved = 0;
      for (const conn of this.broker.connecting()) {
        this.broker.answer(conn, "ok");
        moved++;
      }
      moved += this.process.store.waiting;
      await this.process.store.settle(Infinity);
      moved += await this.settle();
      for (let i = 0; i < this.devices.length; i++) moved += this.answerAll(i);
      quiet = moved === 0;
    }
    if (!quiet) this.fail("finish", "the exchange did not come to rest within 400 rounds");
    await this.check("at the end");
    const missing = [...this.records.values()].filter(
      (r) => r.guarded && !this.deviceOf(r.clientId).received.has(r.key),
    );
    const first = missing[0];
    if (first !== undefined)
      this.fail("at the end", `${missing.map((r) => r.key).join(", ")} never reached their device`, first.key);
    this.count();
  }

  async close(): Promise<void> {
    await this.process.gw.close();
  }

  // ---- plumbing ----

  private send(d: Device, m: Message): void {
    this.process.link.inject(d.address, m);
  }

  private heard(address: string, m: Message): void {
    for (const d of this.devices) {
      if (d.address !== address) continue;
      if (m.type === MsgType.Publish) {
        const r = this.records.get(payloadKey(m));
        if (r !== undefined && r.guarded && !d.received.has(r.key) && r.generation < this.generation)
          this.tally.deliveredAfterRestart++;
      }
      const owner = hear(d, m);
      if (owner !== undefined) this.misdeliveries.push(`a message for ${owner} reached ${d.clientId} at ${address}`);
    }
  }

  /** The device now uses `address`; a device that used it before has lost it (it gets an address of its own). */
  private move(d: Device, address: string): void {
    if (d.address === address) return;
    for (const other of this.devices)
      if (other !== d && other.address === address) other.address = `10.9.0.${this.nextEvicted++}:5000`;
    d.address = address;
  }

  private release(key: string, why: string): void {
    const r = this.records.get(key);
    if (r === undefined || !r.guarded) return;
    r.guarded = false;
    r.why = why;
  }

  private async storedKeys(): Promise<Set<string>> {
    const keys = new Set<string>();
    for (const id of CLIENT_IDS) for (const m of await this.disk.messages(id)) keys.add(utf8.decode(m.payload));
    return keys;
  }

  private checkProcess(p: GatewayProcess, where: string): void {
    if (p.gw.counters.sessionFaults !== 0)
      this.fail(
        where,
        `gateway process ${p.generation}: sessionFaults = ${p.gw.counters.sessionFaults}: ${p.errors.join(" | ")}`,
      );
  }

  private count(): void {
    const t = this.tally;
    for (const r of this.records.values()) {
      if (!r.guarded) continue;
      t.guardedMessages++;
      if (this.broker.acknowledged.has(r.key)) t.acknowledgedUpstream++;
      if (this.everStored.has(r.key)) t.storedThenDelivered++;
      const d = this.deviceOf(r.clientId);
      if ((d.fresh.get(r.key) ?? 0) > 1) {
        if (r.qos === 1) t.duplicatesQoS1++;
        else t.duplicatesQoS2++;
      }
    }
    for (const p of [...this.pastProcesses, this.process]) {
      t.refetches += p.gw.counters.refetches;
      t.deferred += p.gw.counters.deliveriesDeferred;
      t.takeovers += p.gw.counters.takeovers;
    }
    t.storeRefusals += this.disk.counters.refusedMessages;
  }

  private fail(where: string, what: string, key?: string): never {
    const lines = [`${what} (${where})`];
    if (key !== undefined) lines.push(`history of ${key}: ${(this.broker.history.get(key) ?? []).join("; ")}`);
    for (const d of this.devices) lines.push(`${d.clientId} at ${d.address} last heard: ${d.recent.join(", ")}`);
    lines.push("commands:", ...this.trace.map((t) => `  ${t}`));
    throw new Error(lines.join("\n"));
  }
}

function describeConnection(c: BrokerConnection): string {
  const will = c.will === undefined ? "no will" : `will ${c.will.topic} "${utf8.decode(c.will.payload)}"`;
  return `CleanSession ${c.cleanSession ? 1 : 0}, ${will}`;
}

function willMsg(type: MsgType.WillMsg | MsgType.WillMsgUpd, text: string): Message {
  const bytes = Array.from(new TextEncoder().encode(text));
  return { type, willMsg: bytes, willMsgOffset: 0, willMsgLength: bytes.length };
}
