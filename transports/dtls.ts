import { createPrivateKey, type X509Certificate } from "node:crypto";
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { isIPv6 } from "node:net";
import type { DtlsServer } from "werift-dtls/lib/dtls/src/index.js";
import {
  CookieSecrets,
  helloVerifyRequest,
  isHelloVerifyRequest,
  parseClientHello,
  withoutCookie,
  type ClientHelloView,
} from "./dtls-cookie";
import { isClientHello, isDtlsRecord } from "./dtls-record";
import { PeerTable, type PeerEntry } from "./dtls-peers";
import { ReplayWindow, splitRecords } from "./dtls-replay";
import { certificateVerifyValid, clientFinishedValid, parseCertificates, untrustedReason } from "./dtls-verify";
import type { Link, Log } from "./link";
import { formatHostPort, parseHostPort } from "./udp";

export interface DtlsLinkOptions {
  /** Address to bind: "0.0.0.0", "::", "127.0.0.1" … */
  host: string;
  /** Port to bind; 0 picks a free one (see `address()` after open). */
  port: number;
  /** The gateway's certificate (PEM); ECDSA or RSA. */
  certPem: string;
  /** Its private key (PEM, PKCS#8 or the older forms). */
  keyPem: string;
  /** Authorities (PEM) that issue client certificates; set, a client must present one of theirs. */
  caPem?: string;
  /** Largest MQTT-SN frame carried in one record; default 1200 (a DTLS record adds up to 37 octets). */
  mtu?: number;
  /** Peers held at once (handshaking or established); default 1024. */
  maxPeers?: number;
  /** A handshake not finished this long after its ClientHello is dropped; default 10 s. */
  handshakeTimeoutMs?: number;
  /** An established peer not heard from this long is forgotten; default 1 hour. */
  idleTimeoutMs?: number;
  log?: Log;
}

/** What a DTLS link carried and refused since it was made. Counters only grow, except `peers`. */
export interface DtlsLinkStats {
  framesReceived: number;
  framesSent: number;
  /** send() calls refused: link closed, larger than the MTU, no established session with that address. */
  refused: number;
  /** Datagrams that are not DTLS records (plaintext MQTT-SN, noise): dropped. */
  droppedPlaintext: number;
  /** Records from an address without a session that are not a whole ClientHello: dropped. */
  droppedUnknownPeer: number;
  /** ClientHellos without a valid cookie, answered with a HelloVerifyRequest and forgotten (RFC 6347 §4.2.1). */
  helloVerifyRequests: number;
  /** ClientHellos with a valid cookie refused because the peer table was full. */
  refusedTableFull: number;
  /** Finished handshakes whose client certificate was missing, untrusted or not proven: the peer was dropped. */
  refusedCertificate: number;
  /** Finished handshakes whose client Finished did not match the handshake (RFC 5246 §7.4.9): the peer was dropped. */
  refusedFinished: number;
  /** Application-data records whose sequence number was already seen or fell behind the window (replays). */
  droppedReplay: number;
  /** Frames received in an established session that exceed the MTU: dropped. */
  droppedOversize: number;
  /** Peers dropped for an unfinished handshake or idleness. */
  expired: number;
  /** Peers in the table now. */
  peers: number;
  /** The table's bound (maxPeers). */
  peerLimit: number;
  /** Of them, those with an established session. */
  established: number;
  up: boolean;
}

interface Peer {
  server: DtlsServer;
  /** Where the library's records for this peer enter it. */
  deliver: (datagram: Buffer) => void;
  closed: boolean;
  replay: ReplayWindow;
  /** Set by the data handler while one record is handed to the library: the record authenticated. */
  delivered: boolean;
  /** The cookie of the ClientHello that made this peer. */
  cookie: Buffer;
}

/** SO_RCVBUF asked for (the kernel caps it at net.core.rmem_max). */
const RECEIVE_BUFFER_OCTETS = 4 * 1024 * 1024;

/** RFC 6347 §4.1: ContentType application_data. */
const CONTENT_TYPE_APPLICATION_DATA = 23;

/** Datagrams that are not DTLS are logged at most this often, with the running total. */
const PLAINTEXT_LOG_INTERVAL_MS = 10_000;

const noLog: Log = { debug() {}, info() {}, warn() {}, error() {} };

/** RFC 5246 §7.4.1.4.1: SHA-256 (4) with ECDSA (3) or RSA (1), as the gateway key requires. */
function signatureHashFor(keyPem: string): { hash: number; signature: number } {
  return createPrivateKey(keyPem).asymmetricKeyType === "ec" ? { hash: 4, signature: 3 } : { hash: 4, signature: 1 };
}

function pkcs8(keyPem: string): string {
  return createPrivateKey(keyPem).export({ type: "pkcs8", format: "pem" }).toString();
}

/**
 * DTLS 1.2 (RFC 6347) over one UDP socket as a Link. Each peer address gets its own DTLS session; only an
 * established session carries frames. The DTLS server is werift-dtls, which serves one peer per instance:
 * datagrams are demultiplexed here by source address. The cookie exchange is the link's own and keeps no state
 * (transports/dtls-cookie.ts); only a ClientHello with a valid cookie makes a peer. Peers sit in a bounded table
 * (maxPeers, handshake and idle deadlines). Client certificates, when caPem is set, are checked here after the handshake: issued by a
 * listed authority, within their dates, and proven by the CertificateVerify signature (the library only parses it).
 */
export class DtlsLink implements Link {
  readonly name: string;
  readonly mtu: number;
  private socket: Socket | undefined;
  private readonly log: Log;
  private readonly peers: PeerTable<Peer>;
  private readonly authorities: X509Certificate[] | undefined;
  private readonly maxPeers: number;
  private readonly cookies = new CookieSecrets(Date.now());
  private sweeper: NodeJS.Timeout | undefined;
  private onFrame: (frame: Uint8Array, address: string) => void = () => {};
  private serverClass: typeof DtlsServer | undefined;
  private plaintextLoggedAt = -Infinity;
  private readonly counts = {
    framesReceived: 0,
    framesSent: 0,
    refused: 0,
    droppedPlaintext: 0,
    droppedUnknownPeer: 0,
    helloVerifyRequests: 0,
    refusedTableFull: 0,
    refusedCertificate: 0,
    refusedFinished: 0,
    droppedReplay: 0,
    droppedOversize: 0,
    expired: 0,
  };

  constructor(private readonly options: DtlsLinkOptions) {
    this.mtu = options.mtu ?? 1200;
    this.name = `dtls:${formatHostPort(options.host, options.port)}`;
    this.log = options.log ?? noLog;
    this.maxPeers = options.maxPeers ?? 1024;
    this.authorities = options.caPem !== undefined ? parseCertificates(options.caPem) : undefined;
    if (this.authorities !== undefined && this.authorities.length === 0)
      throw new Error(`${this.name}: the CA file holds no PEM certificate`);
    this.peers = new PeerTable<Peer>(
      {
        maxPeers: this.maxPeers,
        handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
        idleTimeoutMs: options.idleTimeoutMs ?? 3_600_000,
      },
      (address, entry) => {
        this.counts.expired++;
        this.log.debug("dtls-peer-expired", { link: this.name, address, established: entry.established });
        this.closePeer(entry.state);
      },
    );
  }

  async open(onFrame: (frame: Uint8Array, address: string) => void): Promise<void> {
    // Loaded on first use: a gateway without DTLS listeners does not pay for the library.
    this.serverClass = (await import("werift-dtls/lib/dtls/src/index.js")).DtlsServer;
    this.onFrame = onFrame;
    const socket = createSocket({ type: isIPv6(this.options.host) ? "udp6" : "udp4" });
    this.socket = socket;
    socket.on("message", (msg: Buffer, rinfo: RemoteInfo) => this.receive(msg, rinfo));
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void =>
        reject(
          new Error(
            `cannot listen on DTLS ${formatHostPort(this.options.host, this.options.port)}: ${err.message}; pick another address with --dtls HOST:PORT`,
          ),
        );
      socket.once("error", onError);
      socket.bind(this.options.port, this.options.host, () => {
        socket.off("error", onError);
        socket.on("error", (err) => this.log.warn("dtls-error", { link: this.name, error: err.message }));
        try {
          // As for UDP links: the kernel's default buffer holds only a few hundred small datagrams of a burst.
          socket.setRecvBufferSize(RECEIVE_BUFFER_OCTETS);
        } catch (err) {
          this.log.warn("dtls-receive-buffer", { link: this.name, error: (err as Error).message });
        }
        resolve();
      });
    });
    const every = Math.max(50, Math.min(this.options.handshakeTimeoutMs ?? 10_000, 1000));
    this.sweeper = setInterval(() => this.peers.sweep(Date.now()), every);
    this.sweeper.unref();
  }

  private receive(msg: Buffer, rinfo: RemoteInfo): void {
    const address = rinfo.family === "IPv6" ? `[${rinfo.address}]:${rinfo.port}` : `${rinfo.address}:${rinfo.port}`;
    const now = Date.now();
    if (!isDtlsRecord(msg)) {
      this.counts.droppedPlaintext++;
      if (now - this.plaintextLoggedAt >= PLAINTEXT_LOG_INTERVAL_MS) {
        this.plaintextLoggedAt = now;
        this.log.warn("dtls-plaintext-dropped", { link: this.name, address, total: this.counts.droppedPlaintext });
      }
      return;
    }
    let entry = this.peers.get(address);
    if (isClientHello(msg)) {
      const hello = parseClientHello(msg);
      // A ClientHello sent again during its handshake (the client missed the server's flight) goes to that handshake.
      const again =
        hello !== undefined && entry !== undefined && !entry.established && hello.cookie.length > 0
          ? Buffer.compare(hello.cookie, entry.state.cookie) === 0
          : false;
      if (!again) entry = this.openHandshake(address, rinfo, msg, hello, entry, now);
      if (entry === undefined) return;
    } else if (entry === undefined) {
      this.counts.droppedUnknownPeer++;
      return;
    }
    entry.lastSeen = now;
    this.deliverRecords(entry.state, msg);
  }

  /**
   * A ClientHello that opens a handshake. Without a valid cookie it is answered with a HelloVerifyRequest and
   * nothing is kept (RFC 6347 §4.2.1): a flood from spoofed addresses holds no peer. With one, its sender has shown
   * that it receives at its address: a session or handshake of that address ends (§4.2.8) and a new peer starts.
   */
  private openHandshake(
    address: string,
    rinfo: RemoteInfo,
    msg: Buffer,
    hello: ClientHelloView | undefined,
    entry: PeerEntry<Peer> | undefined,
    now: number,
  ): PeerEntry<Peer> | undefined {
    if (hello === undefined) {
      this.counts.droppedUnknownPeer++;
      return undefined;
    }
    if (!this.cookies.valid(address, hello, now)) {
      this.counts.helloVerifyRequests++;
      const answer = helloVerifyRequest(hello, this.cookies.cookieFor(address, hello, now));
      this.socket?.send(answer, rinfo.port, rinfo.address);
      return undefined;
    }
    if (entry !== undefined) {
      this.peers.delete(address);
      this.closePeer(entry.state);
    }
    const fresh = this.newPeer(address, rinfo, now, Buffer.from(hello.cookie));
    // The library makes its handshake state from the ClientHello as it was before the cookie exchange, then takes
    // the one with the cookie (delivered next) as the start of the handshake proper.
    fresh?.state.deliver(withoutCookie(msg, hello));
    return fresh;
  }

  /**
   * Hands the datagram's records to the library one by one. Application data must pass the replay window
   * (the library keeps none): a record whose number was seen is dropped, and a number is marked only once its
   * record decrypted and authenticated.
   */
  private deliverRecords(peer: Peer, datagram: Buffer): void {
    for (const record of splitRecords(datagram)) {
      if (record.type !== CONTENT_TYPE_APPLICATION_DATA) {
        peer.deliver(record.bytes);
        continue;
      }
      if (!peer.replay.fresh(record.epoch, record.sequence)) {
        this.counts.droppedReplay++;
        continue;
      }
      peer.delivered = false;
      peer.deliver(record.bytes);
      if (peer.delivered) peer.replay.mark(record.epoch, record.sequence);
    }
  }

  private newPeer(address: string, rinfo: RemoteInfo, now: number, cookie: Buffer): PeerEntry<Peer> | undefined {
    const socket = this.socket;
    const Server = this.serverClass;
    if (socket === undefined || Server === undefined) return undefined;
    const transport = {
      type: "udp",
      address: { address: rinfo.address, port: rinfo.port, family: rinfo.family },
      closed: false,
      onData: (_data: Buffer, _addr: unknown): void => {},
      send: (data: Buffer): Promise<void> =>
        new Promise<void>((resolve) => {
          // The link did the cookie exchange: the library's own HelloVerifyRequest never goes out.
          if (transport.closed || this.socket === undefined || isHelloVerifyRequest(data)) return resolve();
          this.socket.send(data, rinfo.port, rinfo.address, () => resolve());
        }),
      close: async (): Promise<void> => {
        transport.closed = true;
      },
    };
    const server = new Server({
      transport: transport as never,
      cert: this.options.certPem,
      key: pkcs8(this.options.keyPem),
      signatureHash: signatureHashFor(this.options.keyPem) as never,
      certificateRequest: this.authorities !== undefined,
      extendedMasterSecret: true,
    });
    // The library accepts a ClientHello whose cookie equals the one it holds: the one this link issued.
    server.dtls.cookie = cookie;
    const peer: Peer = {
      server,
      deliver: (d) => transport.onData(d, rinfo),
      closed: false,
      replay: new ReplayWindow(),
      delivered: false,
      cookie,
    };
    const entry = this.peers.add(address, peer, now);
    if (entry === undefined) {
      this.counts.refusedTableFull++;
      this.log.warn("dtls-peer-table-full", { link: this.name, address, limit: this.maxPeers });
      transport.closed = true;
      return undefined;
    }
    server.onConnect.subscribe(() => this.established(address, entry));
    server.onData.subscribe((data: Buffer) => {
      peer.delivered = true;
      if (!entry.established || peer.closed) return;
      if (data.length > this.mtu) {
        this.counts.droppedOversize++;
        return;
      }
      this.counts.framesReceived++;
      this.onFrame(data, address);
    });
    server.onError.subscribe((err: unknown) =>
      this.log.debug("dtls-handshake-error", { link: this.name, address, error: String(err) }),
    );
    server.onClose.subscribe(() => {
      if (this.peers.get(address) === entry) this.peers.delete(address);
      this.closePeer(peer);
    });
    return entry;
  }

  /**
   * The library has finished a handshake. It parses the client's Finished and CertificateVerify without checking
   * them: the Finished must match the handshake the library kept; with authorities, the client's certificate must
   * be trusted and proven by its CertificateVerify. Otherwise the peer is dropped before any frame of it passes.
   */
  private established(address: string, entry: PeerEntry<Peer>): void {
    const server = entry.state.server;
    const transcript = server.dtls.sortedHandshakeCache;
    if (!clientFinishedValid(transcript, server.cipher.masterSecret)) {
      this.counts.refusedFinished++;
      return this.refuse(address, entry, "Finished message does not match the handshake");
    }
    if (this.authorities !== undefined) {
      const certificate = server.cipher.remoteCertificate;
      const reason =
        untrustedReason(certificate, this.authorities, new Date()) ??
        (certificate !== undefined && certificateVerifyValid(transcript, certificate)
          ? undefined
          : "CertificateVerify signature does not match the certificate");
      if (reason !== undefined) {
        this.counts.refusedCertificate++;
        return this.refuse(address, entry, reason);
      }
    }
    entry.established = true;
    this.log.debug("dtls-established", { link: this.name, address });
  }

  private refuse(address: string, entry: PeerEntry<Peer>, reason: string): void {
    this.log.warn("dtls-client-refused", { link: this.name, address, reason });
    this.peers.delete(address);
    this.closePeer(entry.state);
  }

  private closePeer(peer: Peer): void {
    if (peer.closed) return;
    peer.closed = true;
    try {
      peer.server.close();
    } catch {
      // The library's close only marks its transport closed; nothing is left to release.
    }
  }

  stats(): DtlsLinkStats {
    return {
      ...this.counts,
      peers: this.peers.size,
      peerLimit: this.maxPeers,
      established: this.peers.established().length,
      up: this.socket !== undefined,
    };
  }

  /** The bound address, e.g. "127.0.0.1:40123" (useful after binding port 0). */
  address(): string {
    if (this.socket === undefined) return formatHostPort(this.options.host, this.options.port);
    const a = this.socket.address();
    return formatHostPort(a.address, a.port);
  }

  send(address: string, frame: Uint8Array): boolean {
    const refuse = (reason: string): boolean => {
      this.counts.refused++;
      this.log.warn("dtls-send-refused", { link: this.name, address, reason });
      return false;
    };
    if (this.socket === undefined) return refuse("link closed");
    if (frame.length > this.mtu) return refuse(`frame of ${frame.length} octets exceeds the MTU of ${this.mtu}`);
    const entry = this.peers.get(address);
    if (entry === undefined || !entry.established || parseHostPort(address) === undefined)
      return refuse("no DTLS session with this address");
    entry.state.server.send(Buffer.from(frame)).catch((err: unknown) => {
      this.log.warn("dtls-send-failed", { link: this.name, address, error: String(err) });
    });
    this.counts.framesSent++;
    return true;
  }

  /** DTLS has no broadcast: the frame goes to every established peer, each in its own session. */
  broadcast(frame: Uint8Array): void {
    for (const [address] of this.peers.established()) this.send(address, frame);
  }

  close(): Promise<void> {
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
    for (const [address, entry] of this.peers.all()) {
      this.peers.delete(address);
      this.closePeer(entry.state);
    }
    const socket = this.socket;
    this.socket = undefined;
    if (socket === undefined) return Promise.resolve();
    return new Promise((resolve) => socket.close(() => resolve()));
  }
}
