import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { isIPv6 } from "node:net";
import type { Link, Log } from "./link";

export interface UdpLinkOptions {
  /** Address to bind: "0.0.0.0", "::", "127.0.0.1" … */
  host: string;
  /** Port to bind; 0 picks a free one (see `address()` after open). */
  port: number;
  /** Where broadcast() sends (ADVERTISE): "255.255.255.255:1884", a multicast group "ff02::1:1884" … Unset: broadcast is a no-op. */
  broadcastTarget?: string;
  /**
   * IPv6 sockets only: take IPv6 datagrams only (IPV6_V6ONLY), so that an IPv4 socket can bind the same
   * port. Default false: the system's default, on Linux a dual-stack socket that also takes IPv4.
   */
  ipv6Only?: boolean;
  /** Largest frame sent or accepted; default 1232 (fits an IPv6 minimum-MTU path). */
  mtu?: number;
  /**
   * Socket receive buffer in octets (SO_RCVBUF; the kernel caps it at net.core.rmem_max). Default 4 MiB:
   * each small datagram costs about 1 KiB of kernel buffer, so the 208 KiB default holds only a few
   * hundred and bursts from many clients are lost before the gateway sees them.
   */
  receiveBufferSize?: number;
  log?: Log;
}

/** "[::1]:5000" / "127.0.0.1:5000" → host and port; undefined when the text is not an address. */
export function parseHostPort(text: string): { host: string; port: number } | undefined {
  let host: string;
  let portText: string;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0 || text[close + 1] !== ":") return undefined;
    host = text.slice(1, close);
    portText = text.slice(close + 2);
  } else {
    const colon = text.lastIndexOf(":");
    if (colon <= 0) return undefined;
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (host.includes(":")) return undefined;
  }
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port > 65535 || host.length === 0) return undefined;
  return { host, port };
}

/**
 * The port at the end of an address as the link formats it ("host:port", "[v6]:port"), read without a
 * regular expression since it runs for every datagram sent; -1 unless it is 1 to 5 digits up to 65535.
 */
function portOf(address: string, from: number): number {
  const digits = address.length - from;
  if (digits < 1 || digits > 5) return -1;
  let port = 0;
  for (let i = from; i < address.length; i++) {
    const d = address.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    port = port * 10 + d;
  }
  return port <= 65535 ? port : -1;
}

export function formatHostPort(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

const noLog: Log = { debug() {}, info() {}, warn() {}, error() {} };

/** What a UDP link carried and refused since it was made. Counters only grow. */
export interface UdpLinkStats {
  /** Datagrams handed to the gateway. */
  framesReceived: number;
  /** Datagrams handed to the socket. */
  framesSent: number;
  /** send() calls refused: link closed, larger than the MTU, not an address, or the socket threw. */
  refused: number;
  /** Datagrams larger than the MTU: incoming ones dropped, outgoing ones refused. */
  droppedOversize: number;
  /** The socket is bound. */
  up: boolean;
}

/**
 * A UDP socket as a Link. Addresses are "host:port" (IPv4) or "[host]:port" (IPv6). A frame larger
 * than mtu is never sent (send returns false and logs why) and an incoming one is dropped.
 */
export class UdpLink implements Link {
  readonly name: string;
  readonly mtu: number;
  private socket: Socket | undefined;
  private readonly log: Log;
  droppedOversize = 0;
  private framesReceived = 0;
  private framesSent = 0;
  private refused = 0;
  private bound = false;

  constructor(private readonly options: UdpLinkOptions) {
    this.mtu = options.mtu ?? 1232;
    this.name = `udp:${formatHostPort(options.host, options.port)}`;
    this.log = options.log ?? noLog;
  }

  open(onFrame: (frame: Uint8Array, address: string) => void): Promise<void> {
    const ipv6 = isIPv6(this.options.host);
    const socket = createSocket({
      type: ipv6 ? "udp6" : "udp4",
      reuseAddr: false,
      ipv6Only: ipv6 && this.options.ipv6Only === true,
    });
    this.socket = socket;
    const mtu = this.mtu;
    socket.on("message", (msg: Buffer, rinfo: RemoteInfo) => {
      if (msg.length > mtu) {
        this.droppedOversize++;
        return;
      }
      this.framesReceived++;
      const address = rinfo.family === "IPv6" ? `[${rinfo.address}]:${rinfo.port}` : `${rinfo.address}:${rinfo.port}`;
      onFrame(msg, address);
    });
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        reject(
          new Error(
            `cannot listen on UDP ${formatHostPort(this.options.host, this.options.port)}: ${err.message}; pick another address with --udp HOST:PORT`,
          ),
        );
      };
      socket.once("error", onError);
      socket.bind(this.options.port, this.options.host, () => {
        socket.off("error", onError);
        this.bound = true;
        socket.on("error", (err) => this.log.warn("udp-error", { link: this.name, error: err.message }));
        try {
          socket.setRecvBufferSize(this.options.receiveBufferSize ?? 4 * 1024 * 1024);
        } catch (err) {
          this.log.warn("udp-receive-buffer", { link: this.name, error: (err as Error).message });
        }
        if (this.options.broadcastTarget !== undefined) {
          try {
            socket.setBroadcast(true);
          } catch (err) {
            this.log.warn("udp-broadcast-unavailable", { link: this.name, error: (err as Error).message });
          }
        }
        resolve();
      });
    });
  }

  stats(): UdpLinkStats {
    return {
      framesReceived: this.framesReceived,
      framesSent: this.framesSent,
      refused: this.refused,
      droppedOversize: this.droppedOversize,
      up: this.socket !== undefined && this.bound,
    };
  }

  /** The bound address, e.g. "127.0.0.1:40123" (useful after binding port 0). */
  address(): string {
    if (this.socket === undefined) return formatHostPort(this.options.host, this.options.port);
    const a = this.socket.address();
    return formatHostPort(a.address, a.port);
  }

  send(address: string, frame: Uint8Array): boolean {
    const socket = this.socket;
    if (socket === undefined) {
      this.log.warn("udp-send-refused", { link: this.name, address, reason: "link closed" });
      this.refused++;
      return false;
    }
    if (frame.length > this.mtu) {
      this.droppedOversize++;
      this.log.warn("udp-send-refused", {
        link: this.name,
        address,
        reason: `frame of ${frame.length} octets exceeds the MTU of ${this.mtu}`,
      });
      this.refused++;
      return false;
    }
    const colon = address.lastIndexOf(":");
    const port = colon > 0 ? portOf(address, colon + 1) : -1;
    if (port < 0) {
      this.log.warn("udp-send-refused", { link: this.name, address, reason: "not a host:port address" });
      this.refused++;
      return false;
    }
    const host = address.charCodeAt(0) === 0x5b ? address.slice(1, colon - 1) : address.slice(0, colon);
    try {
      socket.send(frame, 0, frame.length, port, host);
    } catch (err) {
      this.log.warn("udp-send-refused", { link: this.name, address, reason: (err as Error).message });
      this.refused++;
      return false;
    }
    this.framesSent++;
    return true;
  }

  broadcast(frame: Uint8Array): void {
    if (this.options.broadcastTarget === undefined) return;
    this.send(this.options.broadcastTarget, frame);
  }

  close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    this.bound = false;
    if (socket === undefined) return Promise.resolve();
    return new Promise((resolve) => socket.close(() => resolve()));
  }
}
