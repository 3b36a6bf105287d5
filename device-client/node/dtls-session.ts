import { createPrivateKey } from "node:crypto";
import dgram from "node:dgram";
import type { DtlsClient } from "werift-dtls/lib/dtls/src/index.js";
import {
  HANDSHAKE_FINISHED,
  parseCertificates,
  serverFinishedValid,
  serverKeyExchangeValid,
  untrustedReason,
} from "../../transports/dtls-verify";

export interface DtlsSessionOptions {
  /** The gateway's IP address (already resolved). */
  host: string;
  port: number;
  /** Authorities (PEM) the gateway's certificate must be issued by; unset, any certificate is taken (no authentication). */
  caPem?: string;
  /** This device's certificate and key (PEM), for a gateway that asks for one. */
  certPem?: string;
  keyPem?: string;
  /** How long the handshake may take; default 10 s. */
  timeoutMs?: number;
}

/** One DTLS 1.2 session from this device to the gateway: datagrams in and out, encrypted. */
export interface DtlsSession {
  /** The local UDP port the session sends from. */
  readonly localPort: number;
  send(data: Uint8Array): Promise<void>;
  onMessage(handler: (data: Buffer) => void): void;
  close(): void;
}

/**
 * Opens a DTLS 1.2 session (RFC 6347) to host:port over its own UDP socket and checks the gateway: its Finished
 * must match the handshake this side saw, and with caPem its certificate must be issued by one of those
 * authorities and must have signed the key exchange (the library parses these messages but does not check them).
 */
export async function openDtlsSession(options: DtlsSessionOptions): Promise<DtlsSession> {
  const { DtlsClient: Client } = await import("werift-dtls/lib/dtls/src/index.js");
  const socket = dgram.createSocket(options.host.includes(":") ? "udp6" : "udp4");
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, () => {
      socket.off("error", reject);
      resolve();
    });
  });
  socket.on("error", () => {});
  const transport = {
    type: "udp",
    address: { address: options.host, port: options.port, family: options.host.includes(":") ? "IPv6" : "IPv4" },
    closed: false,
    onData: (_data: Buffer, _addr: unknown): void => {},
    send: (data: Buffer): Promise<void> =>
      new Promise<void>((resolve) => {
        if (transport.closed) return resolve();
        socket.send(data, options.port, options.host, () => resolve());
      }),
    close: async (): Promise<void> => {
      transport.closed = true;
    },
  };
  socket.on("message", (msg, rinfo) => {
    if (rinfo.port === options.port) transport.onData(msg, rinfo);
  });
  const withCert = options.certPem !== undefined && options.keyPem !== undefined;
  const client: DtlsClient = new Client({
    transport: transport as never,
    ...(withCert
      ? {
          cert: options.certPem,
          key: createPrivateKey(options.keyPem as string)
            .export({ type: "pkcs8", format: "pem" })
            .toString(),
          signatureHash: (createPrivateKey(options.keyPem as string).asymmetricKeyType === "ec"
            ? { hash: 4, signature: 3 }
            : { hash: 4, signature: 1 }) as never,
        }
      : {}),
    extendedMasterSecret: true,
  });
  let refuse: (err: Error) => void = () => {};
  const refused = new Promise<never>((_, reject) => {
    refuse = reject;
  });
  refused.catch(() => {});
  const handle = client.onHandleHandshakes;
  // RFC 5246 §7.4.9: the library takes the server's Finished as the end of the handshake without checking it.
  client.onHandleHandshakes = async (assembled) => {
    const finished = assembled.find((m) => m.msg_type === HANDSHAKE_FINISHED);
    if (
      finished !== undefined &&
      !serverFinishedValid(client.dtls.sortedHandshakeCache, finished.fragment, client.cipher.masterSecret)
    ) {
      refuse(new Error("gateway not trusted: its Finished message does not match the handshake"));
      return;
    }
    await handle(assembled);
  };
  const close = (): void => {
    transport.closed = true;
    try {
      client.close();
    } catch {
      // Only marks the transport closed.
    }
    socket.close();
  };
  const connected = new Promise<void>((resolve) => client.onConnect.once(() => resolve()));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("DTLS handshake timed out")), options.timeoutMs ?? 10_000);
  });
  try {
    await Promise.race([client.connect().then(() => connected), refused, timeout]);
  } catch (err) {
    close();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  if (options.caPem !== undefined) {
    const certificate = client.cipher.remoteCertificate;
    const reason =
      untrustedReason(certificate, parseCertificates(options.caPem), new Date()) ??
      (certificate !== undefined && serverKeyExchangeValid(client.dtls.sortedHandshakeCache, certificate)
        ? undefined
        : "the key exchange is not signed by the gateway's certificate");
    if (reason !== undefined) {
      close();
      throw new Error(`gateway not trusted: ${reason}`);
    }
  }
  return {
    localPort: socket.address().port,
    send: (data) => client.send(Buffer.from(data)),
    onMessage: (handler) => {
      client.onData.subscribe((data: Buffer) => handler(data));
    },
    close,
  };
}
