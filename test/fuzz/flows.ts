import { MsgType, type Message, type QoS } from "../../protocol";
import { anyId, build, duration, type FuzzWorld } from "./messages";
import type { Prng } from "./prng";

/** One message of a flow and the source socket that sends it. */
export interface Step {
  source: number;
  message: Message;
  /** The next step of the flow goes out right after this one, with no other flow's datagram between. */
  together?: boolean;
}

/**
 * Valid MQTT-SN flows (§5, §6) with the rough edges a real network adds: races, takeovers, missing and
 * repeated steps. Each flow is a short list of steps; the datagram stream interleaves several flows.
 */
export class Flows {
  private readonly nextMsgId: number[];

  constructor(
    private readonly rng: Prng,
    private readonly world: FuzzWorld,
  ) {
    this.nextMsgId = Array.from({ length: world.sources }, () => 1);
  }

  /** A new flow, chosen by weight. */
  next(): Step[] {
    const r = this.rng;
    return r.weighted<() => Step[]>([
      [6, () => this.session()],
      [3, () => this.connectRace()],
      [2, () => this.manyIdsOneSource()],
      [3, () => this.takeover()],
      [4, () => this.connectWithWill()],
      [3, () => this.willUpdates()],
      [5, () => this.registerPublish()],
      [2, () => this.qosMinusOne()],
      [3, () => this.subscribeUnsubscribe()],
      [3, () => this.qos2()],
      [4, () => this.acks()],
      [2, () => this.ping()],
      [3, () => this.sleepAndWake()],
      [1, () => this.disconnect()],
      [1, () => [{ source: this.source(), message: build.searchGw(r) }]],
      [2, () => [{ source: this.source(), message: build.gatewayOnly(r) }]],
    ])();
  }

  private source(): number {
    return this.rng.int(this.world.sources);
  }

  /** The id a source normally uses: sources and ids pair up, and the spare ids wander between sources. */
  private homeId(source: number): string {
    return this.world.clientIds[source % this.world.clientIds.length] as string;
  }

  /** Some client id: mostly from the shared pool, sometimes one of a bounded set of others. */
  private anyClientId(): string {
    const r = this.rng;
    return r.weighted<() => string>([
      [12, () => r.pick(this.world.clientIds)],
      [1, () => `fz-other-${r.int(200)}`],
      [1, () => "fz-" + "m".repeat(20)],
      [1, () => "fz-ü-" + r.int(10)],
    ])();
  }

  private msgId(source: number): number {
    const id = this.nextMsgId[source] as number;
    this.nextMsgId[source] = id >= 0xffff ? 1 : id + 1;
    return id;
  }

  private connect(source: number, clientId: string, will = false): Step {
    const r = this.rng;
    return { source, message: build.connect(clientId, will, r.chance(0.6), duration(r)) };
  }

  private publish(source: number, q: QoS = this.qosOf(), topicIdType = this.rng.pick<0 | 1 | 2>([0, 1, 2])): Step {
    return { source, message: build.publish(this.rng, this.world, q, topicIdType, this.msgId(source)) };
  }

  private qosOf(): QoS {
    return this.rng.pick<QoS>([-1, 0, 1, 1, 2, 2]);
  }

  /** CONNECT, then a few operations a connected client does, sometimes a DISCONNECT. */
  private session(): Step[] {
    const r = this.rng;
    const s = this.source();
    const id = r.chance(0.8) ? this.homeId(s) : this.anyClientId();
    const steps: Step[] = [this.connect(s, id)];
    const ops = r.range(1, 5);
    for (let i = 0; i < ops; i++) {
      steps.push(
        r.weighted<() => Step>([
          [3, () => ({ source: s, message: build.register(r, id, this.msgId(s)) })],
          [4, () => this.publish(s)],
          [2, () => ({ source: s, message: build.subscribe(r, this.world, this.msgId(s), false) })],
          [1, () => ({ source: s, message: build.subscribe(r, this.world, this.msgId(s), true) })],
          [2, () => ({ source: s, message: build.ack(r, anyId(r)) })],
          [1, () => ({ source: s, message: build.pingReq(undefined) })],
        ])(),
      );
    }
    if (r.chance(0.3)) steps.push({ source: s, message: build.disconnect(undefined) });
    return steps;
  }

  /** The same client id from two to four sockets at once (the same socket may appear twice). */
  private connectRace(): Step[] {
    const r = this.rng;
    const id = this.anyClientId();
    const steps: Step[] = [];
    const n = r.range(2, 4);
    for (let i = 0; i < n; i++) steps.push({ ...this.connect(this.source(), id, r.chance(0.3)), together: i < n - 1 });
    if (r.chance(0.5)) steps.push(this.publish(steps[0]!.source));
    return steps;
  }

  /** Several client ids from one address, back to back. */
  private manyIdsOneSource(): Step[] {
    const s = this.source();
    const steps: Step[] = [];
    const n = this.rng.range(2, 4);
    for (let i = 0; i < n; i++)
      steps.push({ ...this.connect(s, this.anyClientId(), this.rng.chance(0.2)), together: true });
    steps.push(this.publish(s));
    return steps;
  }

  /** A client connects from A, works, the same id connects from B; A goes on as if nothing happened. */
  private takeover(): Step[] {
    const r = this.rng;
    const a = this.source();
    const b = this.source();
    const id = this.homeId(a);
    return [
      this.connect(a, id, r.chance(0.3)),
      { source: a, message: build.subscribe(r, this.world, this.msgId(a), false) },
      this.publish(a),
      this.connect(b, id, r.chance(0.3)),
      this.publish(a),
      { source: a, message: build.pingReq(r.chance(0.5) ? id : undefined) },
      { source: a, message: build.ack(r, anyId(r)) },
      r.chance(0.5) ? { source: b, message: build.disconnect(undefined) } : this.publish(b),
    ];
  }

  /** §6.3 CONNECT with Will, WILLTOPIC, WILLMSG; sometimes with a step missing, repeated, or out of order. */
  private connectWithWill(): Step[] {
    const r = this.rng;
    const s = this.source();
    const id = r.chance(0.7) ? this.homeId(s) : this.anyClientId();
    const topic: Step = { source: s, message: build.willTopic(r, MsgType.WillTopic, id, r.chance(0.1)) };
    const msg: Step = { source: s, message: build.willMsg(r, MsgType.WillMsg) };
    const steps: Step[] = [this.connect(s, id, true)];
    const variant = r.int(8);
    if (variant === 0) steps.push(msg, topic);
    else if (variant === 1) steps.push(topic);
    else if (variant === 2) steps.push(topic, topic, msg, msg);
    else if (variant === 3) steps.push(topic, this.connect(s, id, true), msg);
    else if (variant === 4) steps.push(topic, this.connect(this.source(), id, r.chance(0.5)), msg);
    else steps.push(topic, msg);
    if (r.chance(0.5)) steps.push(this.publish(s));
    return steps;
  }

  /** §6.4 WILLTOPICUPD then WILLMSGUPD back to back, while connected or not; an empty topic deletes the will. */
  private willUpdates(): Step[] {
    const r = this.rng;
    const s = this.source();
    const id = this.homeId(s);
    const steps: Step[] = r.chance(0.5) ? [this.connect(s, id, r.chance(0.5))] : [];
    const n = r.range(1, 3);
    for (let i = 0; i < n; i++) {
      steps.push({ source: s, message: build.willTopic(r, MsgType.WillTopicUpd, id, r.chance(0.2)), together: true });
      steps.push({ source: s, message: build.willMsg(r, MsgType.WillMsgUpd) });
    }
    if (r.chance(0.3)) steps.reverse();
    return steps;
  }

  /** §6.5 REGISTER, then PUBLISH at every QoS with every TopicIdType. */
  private registerPublish(): Step[] {
    const r = this.rng;
    const s = this.source();
    const id = this.homeId(s);
    const steps: Step[] = r.chance(0.5) ? [this.connect(s, id)] : [];
    steps.push({ source: s, message: build.register(r, id, this.msgId(s)) });
    const n = r.range(1, 4);
    for (let i = 0; i < n; i++) steps.push(this.publish(s));
    return steps;
  }

  /** §6.8 PUBLISH QoS -1 without a connection, predefined ids and short names (and a few invalid ones). */
  private qosMinusOne(): Step[] {
    const s = this.source();
    const n = this.rng.range(1, 3);
    const steps: Step[] = [];
    for (let i = 0; i < n; i++) steps.push(this.publish(s, -1));
    return steps;
  }

  /** §6.9, §6.10 SUBSCRIBE (names, wildcards, predefined, short) then UNSUBSCRIBE. */
  private subscribeUnsubscribe(): Step[] {
    const r = this.rng;
    const s = this.source();
    const steps: Step[] = r.chance(0.3) ? [this.connect(s, this.homeId(s))] : [];
    steps.push({ source: s, message: build.subscribe(r, this.world, this.msgId(s), false) });
    if (r.chance(0.5)) steps.push(this.publish(s, r.pick<QoS>([0, 1, 2])));
    steps.push({ source: s, message: build.subscribe(r, this.world, this.msgId(s), true) });
    return steps;
  }

  /** §6.7 QoS 2: PUBLISH, a duplicate, PUBREL (sometimes before the gateway's PUBREC), another PUBREL. */
  private qos2(): Step[] {
    const r = this.rng;
    const s = this.source();
    const first = this.publish(s, 2);
    const msgId = first.message.type === MsgType.Publish ? first.message.msgId : 1;
    const steps: Step[] = [first];
    if (r.chance(0.5)) steps.push(first);
    steps.push({ source: s, message: { type: MsgType.PubRel, msgId } });
    if (r.chance(0.5)) steps.push({ source: s, message: { type: MsgType.PubRel, msgId } });
    if (r.chance(0.3)) steps.push({ source: s, message: { type: MsgType.PubComp, msgId } });
    return steps;
  }

  /** PUBACK, PUBREC, PUBREL, PUBCOMP, REGACK for the ids the gateway uses toward clients, and random ones. */
  private acks(): Step[] {
    const r = this.rng;
    const s = this.source();
    const steps: Step[] = [];
    const n = r.range(1, 4);
    for (let i = 0; i < n; i++) steps.push({ source: s, message: build.ack(r, anyId(r)) });
    return steps;
  }

  /** §6.15 PINGREQ with and without a client id, from the id's usual source or another. */
  private ping(): Step[] {
    const r = this.rng;
    const s = this.source();
    return [{ source: s, message: build.pingReq(r.chance(0.5) ? this.anyClientId() : undefined) }];
  }

  /** §6.14 DISCONNECT with Duration (asleep), PINGREQ with the id (awake), then CONNECT or DISCONNECT. */
  private sleepAndWake(): Step[] {
    const r = this.rng;
    const s = this.source();
    const id = this.homeId(s);
    const waker = r.chance(0.7) ? s : this.source();
    const steps: Step[] = [];
    if (r.chance(0.6)) steps.push(this.connect(s, id));
    if (r.chance(0.5)) steps.push({ source: s, message: build.subscribe(r, this.world, this.msgId(s), false) });
    steps.push({ source: s, message: build.disconnect(r.pick([0, 1, 2, 5, 60, 65535])) });
    if (r.chance(0.5)) steps.push(this.publish(this.source(), r.pick<QoS>([0, 1, 2]), 0));
    steps.push({ source: waker, message: build.pingReq(id) });
    if (r.chance(0.5)) steps.push({ source: waker, message: build.ack(r, anyId(r)) });
    steps.push(
      r.weighted<() => Step>([
        [2, () => this.connect(waker, id)],
        [2, () => ({ source: waker, message: build.disconnect(undefined) })],
        [1, () => ({ source: waker, message: build.disconnect(duration(r)) })],
        [1, () => ({ source: waker, message: build.pingReq(id) })],
      ])(),
    );
    return steps;
  }

  /** §6.14 DISCONNECT without Duration, with or without a session. */
  private disconnect(): Step[] {
    return [{ source: this.source(), message: build.disconnect(undefined) }];
  }
}
