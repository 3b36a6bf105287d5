import { MsgType, ReturnCode, type Message } from "../../protocol";
import type { Link } from "../../transports/link";
import { ConnectAdmission, type ConnectAdmissionResult } from "../admission/connect-admission";
import type { AdmissionCounters } from "../admission/counters";
import { sourceOf } from "../admission/source";
import type { Session, SessionState } from "../session/types";
import type { GatewayConfig } from "../config";
import type { Client, LinkRoute, Shell } from "./context";
import { sendTo } from "./send";

/** The connect flow's steps (§6.2, §6.3): a session here holds a handshake of its source. */
const HANDSHAKE_STATES: ReadonlySet<SessionState> = new Set<SessionState>([
  "new",
  "awaitingWillTopic",
  "awaitingWillMsg",
  "connectingUpstream",
]);

export function inHandshake(s: Session): boolean {
  return HANDSHAKE_STATES.has(s.state);
}

/** The gateway's per-source admission; its table of sources holds at most limits.maxClients sources. */
export function connectAdmissionFor(limits: GatewayConfig["limits"]): ConnectAdmission<Session> {
  return new ConnectAdmission<Session>(
    {
      maxHandshakesPerSource: limits.maxHandshakesPerSource,
      maxConnectsPerSecondPerSource: limits.maxConnectsPerSecondPerSource,
      maxSources: limits.maxClients,
      maxDatagramsPerSecondPerSource: limits.maxDatagramsPerSecondPerSource,
    },
    inHandshake,
  );
}

type Refusal = Exclude<ConnectAdmissionResult, "ok">;

/** The limit a refusal names in the log, its value, and its own counter. */
function limitOf(result: Refusal, shell: Shell): { limit: string; value: number; counter?: keyof AdmissionCounters } {
  const limits = shell.config.limits;
  switch (result) {
    case "rate":
      return {
        limit: "limits.maxConnectsPerSecondPerSource",
        value: limits.maxConnectsPerSecondPerSource,
        counter: "connectRateRefusals",
      };
    case "handshakes":
      return {
        limit: "limits.maxHandshakesPerSource",
        value: limits.maxHandshakesPerSource,
        counter: "handshakeRefusals",
      };
    case "full":
      return { limit: "limits.maxClients", value: limits.maxClients };
  }
}

/**
 * Called before a CONNECT starts a session: false when its source is over a limit, and then the client has
 * been answered CONNACK 0x01 (congestion, §5.4.5) and the refusal counted and logged. A CONNECT resent
 * during a handshake under way (§6.13) starts nothing new and is always let through to that session.
 */
export function admitConnect(
  shell: Shell,
  table: Map<string, Client>,
  route: LinkRoute,
  m: Message & { type: MsgType.Connect },
): boolean {
  const { key, link, address, nodeId } = route;
  const here = table.get(key);
  if (here !== undefined && here.session.clientId === m.clientId && inHandshake(here.session)) return true;
  const source = sourceOf(link.name, address);
  const admission = shell.admission;
  const result = admission.admitConnect(source, shell.now());
  const counters = shell.counters;
  if (admission.forgotten > counters.sourcesForgotten) {
    counters.sourcesForgotten = admission.forgotten;
    shell.log.warn("limit-hit", {
      limit: "sources tracked (limits.maxClients)",
      value: shell.config.limits.maxClients,
    });
  }
  if (result === "ok") return true;
  const { limit, value, counter } = limitOf(result, shell);
  if (counter !== undefined) counters[counter]++;
  shell.counters.congestionRefusals++;
  shell.log.warn("limit-hit", { limit, value, source, clientId: m.clientId });
  sendTo(link, address, nodeId, { type: MsgType.ConnAck, returnCode: ReturnCode.Congestion });
  return false;
}

/**
 * Called first for every datagram: false when its source has spent limits.maxDatagramsPerSecondPerSource.
 * Such a datagram is dropped unread and unanswered (an answer would amplify a flood, spoofed or not),
 * counted (datagramRateDropped) and logged as limit-hit, throttled per source by the log.
 */
export function admitDatagram(shell: Shell, link: Link, address: string): boolean {
  const source = sourceOf(link.name, address);
  if (shell.admission.admitDatagram(source, shell.now())) return true;
  shell.counters.datagramRateDropped++;
  shell.log.warn("limit-hit", {
    limit: "limits.maxDatagramsPerSecondPerSource",
    value: shell.config.limits.maxDatagramsPerSecondPerSource,
    source,
  });
  return false;
}

/** Called after a CONNECT was handed to its session: a session now in its handshake counts for its source. */
export function handshakeStarted(shell: Shell, c: Client | undefined): void {
  if (c === undefined || !inHandshake(c.session)) return;
  shell.admission.handshakeStarted(sourceOf(c.link.name, c.address), c.session);
}

/** Called after every step: a session that has left the handshake states frees its slot at its source. */
export function handshakeEnded(shell: Shell, c: Client, wasInHandshake: boolean): void {
  if (wasInHandshake && !inHandshake(c.session))
    shell.admission.handshakeEnded(sourceOf(c.link.name, c.address), c.session);
}
