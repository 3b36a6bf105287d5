import { encode, encodingLength, MsgType, type Bytes, type Message } from "../../protocol";
import { Flows, type Step } from "./flows";
import type { FuzzWorld } from "./messages";
import { mutate } from "./mutate";
import { Prng } from "./prng";

/** One datagram to send and the index of the source socket that sends it. */
export interface Datagram {
  source: number;
  bytes: Uint8Array;
}

interface ActiveFlow {
  steps: Step[];
  at: number;
  /** Set when the whole flow comes through a forwarder (§5.5) as this wireless node. */
  nodeId: Uint8Array | undefined;
  radius: number;
}

/** Share of datagrams given a byte-level mutation after encoding. */
const MUTATION_RATE = 0.2;
/** Share of flows that come encapsulated by a forwarder, and of single datagrams wrapped on their own. */
const FLOW_ENCAPSULATION_RATE = 0.1;
const DATAGRAM_ENCAPSULATION_RATE = 0.02;

function encoded(message: Message): Uint8Array {
  const out = new Uint8Array(encodingLength(message));
  encode(message, out as unknown as Bytes, 0);
  return out;
}

/**
 * The fuzz sequence: several flows in flight at once, their steps interleaved at random, some wrapped
 * in forwarder encapsulation (0xFE), some mutated at the byte level. A function of the seed and the
 * world alone: the same seed gives the same datagrams in the same order.
 */
export class DatagramStream {
  private readonly rng: Prng;
  private readonly flows: Flows;
  private readonly active: ActiveFlow[] = [];
  private readonly concurrency: number;
  /** The flow whose previous step asked for its next one to follow at once. */
  private held: ActiveFlow | undefined;

  constructor(seed: string, world: FuzzWorld) {
    this.rng = new Prng(seed);
    this.flows = new Flows(this.rng, world);
    this.concurrency = Math.max(2, Math.ceil(world.sources / 2));
  }

  next(): Datagram {
    const r = this.rng;
    while (this.active.length < this.concurrency) {
      const wrapped = r.chance(FLOW_ENCAPSULATION_RATE);
      this.active.push({
        steps: this.flows.next(),
        at: 0,
        nodeId: wrapped ? this.nodeId() : undefined,
        radius: r.int(4),
      });
    }
    const flow = this.held ?? (this.active[r.int(this.active.length)] as ActiveFlow);
    const step = flow.steps[flow.at] as Step;
    flow.at++;
    const done = flow.at >= flow.steps.length;
    this.held = step.together === true && !done ? flow : undefined;
    if (done) this.active.splice(this.active.indexOf(flow), 1);
    let message = step.message;
    const nodeId = flow.nodeId ?? (r.chance(DATAGRAM_ENCAPSULATION_RATE) ? this.nodeId() : undefined);
    if (nodeId !== undefined) {
      message = {
        type: MsgType.Encapsulated,
        radius: flow.radius,
        wirelessNodeId: nodeId as unknown as Bytes,
        message,
      };
    }
    const bytes = encoded(message);
    return { source: step.source, bytes: r.chance(MUTATION_RATE) ? mutate(r, bytes) : bytes };
  }

  /** A wireless node id behind a forwarder: a few recurring ones, an empty one, and random ones. */
  private nodeId(): Uint8Array {
    const r = this.rng;
    return r.weighted<() => Uint8Array>([
      [4, () => Uint8Array.of(r.int(8))],
      [2, () => Uint8Array.of(0xaa, r.int(4))],
      [1, () => new Uint8Array(0)],
      [1, () => r.bytes(r.range(1, 12))],
    ])();
  }
}
