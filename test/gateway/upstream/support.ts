import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Aedes, type AuthenticateError } from "aedes";
import { generate, parser as newParser, type Packet } from "mqtt-packet";
import { MqttConnection, type ConnectionOptions } from "../../../gateway/upstream/connection";
import { startEmbeddedBroker } from "../../../gateway/broker/embedded";
import { until } from "../../device-client/support/wait";
import { startMosquitto } from "../../support/mosquitto";

export { until };

export const USERNAME = "gw";
export const PASSWORD = "secret";

export interface Received {
  topic: string;
  payload: string;
  qos: 0 | 1 | 2;
  retain: boolean;
  dup: boolean;
  messageId: number;
}

/** An MqttConnection with everything its events reported, in order. */
export interface Recorded {
  conn: MqttConnection;
  connacks: Array<{ returnCode: number; sessionPresent: boolean }>;
  messages: Received[];
  closed: Array<{ error: Error | undefined; wasOpen: boolean }>;
}

export function record(options: Partial<ConnectionOptions> & { url: string }): Recorded {
  const r: Omit<Recorded, "conn"> = { connacks: [], messages: [], closed: [] };
  const conn = new MqttConnection(
    {
      clientId: `conn-${Math.random().toString(16).slice(2)}`,
      clean: true,
      keepAlive: 30,
      connectTimeoutMs: 5000,
      ...options,
    },
    {
      connack: (returnCode, sessionPresent) => r.connacks.push({ returnCode, sessionPresent }),
      message: (topic, payload, qos, retain, dup, messageId) =>
        r.messages.push({ topic, payload: payload.toString(), qos, retain, dup, messageId }),
      closed: (error, wasOpen) => r.closed.push({ error, wasOpen }),
    },
  );
  return { conn, ...r };
}

/** Starts a connection and waits for its CONNACK; throws unless the broker accepted it. */
export async function openConnection(options: Partial<ConnectionOptions> & { url: string }): Promise<Recorded> {
  const r = record(options);
  r.conn.start();
  await until("CONNACK", () => r.connacks.length > 0 || r.closed.length > 0, 5000);
  if (r.connacks[0]?.returnCode !== 0) {
    throw new Error(`not accepted: ${JSON.stringify(r.connacks)} ${String(r.closed[0]?.error)}`);
  }
  return r;
}

export interface BrokerRun {
  url: string;
  stop(): Promise<void>;
}

/** A broker every contract test runs against. */
export interface BrokerUnderTest {
  name: string;
  start(): Promise<BrokerRun>;
  /** A broker that accepts only USERNAME with PASSWORD. */
  startWithPassword(): Promise<BrokerRun>;
}

/** aedes in this process with an authenticate hook: any other credentials get CONNACK 4 (§3.2.2.3). */
async function aedesWithPassword(): Promise<BrokerRun> {
  const broker = await Aedes.createBroker({
    authenticate: (_client, username, password, done) => {
      if (username === USERNAME && password?.toString() === PASSWORD) {
        done(null, true);
        return;
      }
      const error = new Error("bad username or password") as AuthenticateError;
      error.returnCode = 4;
      done(error, false);
    },
  });
  const server: Server = createServer(broker.handle);
  const sockets = new Set<Socket>();
  server.on("connection", (s) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        broker.close(() => server.close(() => resolve()));
        for (const s of sockets) s.destroy();
      }),
  };
}

/** Mosquitto with anonymous clients refused and one user in a password_file made by mosquitto_passwd. */
async function mosquittoWithPassword(): Promise<BrokerRun> {
  const dir = mkdtempSync(join(tmpdir(), "mosquitto-passwd-"));
  chmodSync(dir, 0o755);
  const file = join(dir, "passwd");
  execFileSync("mosquitto_passwd", ["-c", "-b", file, USERNAME, PASSWORD], { stdio: "ignore" });
  chmodSync(file, 0o644);
  const m = await startMosquitto(["allow_anonymous false", `password_file ${file}`]);
  return {
    url: m.url,
    stop: async () => {
      await m.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const embedded: BrokerUnderTest = {
  name: "embedded aedes",
  start: async () => {
    const b = await startEmbeddedBroker(0);
    return { url: b.url, stop: () => b.close() };
  },
  startWithPassword: aedesWithPassword,
};

export const mosquitto: BrokerUnderTest = {
  name: "mosquitto",
  start: () => startMosquitto(),
  startWithPassword: mosquittoWithPassword,
};

/**
 * A TCP peer that plays the broker from a script, for what no real broker can be made to do on
 * demand: stay silent, send malformed bytes, resend a PUBLISH, never acknowledge. It parses what the
 * connection sends with mqtt-packet and records it; it checks nothing about MQTT itself.
 */
export class ScriptedBroker {
  /** Packets received on the latest connection, in order. */
  received: Packet[] = [];
  socket: Socket | undefined;
  /** How CONNECT is answered: CONNACK with this return code, or not at all. */
  connectAnswer: number | "silent" = 0;
  /** Whether the socket is closed when DISCONNECT or the client's FIN arrives (a real broker does, §3.14.4). */
  closeOnDisconnect = true;
  /** Connections accepted so far. */
  accepted = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server) {
    server.on("connection", (socket) => this.accept(socket));
  }

  static async start(): Promise<ScriptedBroker> {
    // Half-open allowed, so the peer decides itself whether the client's FIN closes the socket.
    const server = createServer({ allowHalfOpen: true });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return new ScriptedBroker(server);
  }

  get url(): string {
    return `mqtt://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    this.accepted++;
    this.socket = socket;
    this.received = [];
    const received = this.received;
    const parser = newParser({ protocolVersion: 4 });
    parser.on("packet", (packet: Packet) => {
      received.push(packet);
      if (packet.cmd === "connect" && this.connectAnswer !== "silent") {
        socket.write(generate({ cmd: "connack", returnCode: this.connectAnswer, sessionPresent: false }));
      }
      if (packet.cmd === "disconnect" && this.closeOnDisconnect) socket.end();
    });
    parser.on("error", () => socket.destroy());
    socket.on("data", (chunk: Buffer) => parser.parse(chunk));
    socket.on("end", () => {
      if (this.closeOnDisconnect) socket.end();
    });
    socket.on("error", () => {});
    socket.once("close", () => this.sockets.delete(socket));
  }

  /** Calls start() and waits until its CONNECT has arrived on a new connection. */
  async connectFrom(start: () => void): Promise<void> {
    const before = this.accepted;
    start();
    await until("CONNECT at the scripted broker", () => this.accepted > before && this.count("connect") === 1, 5000);
  }

  send(packet: Packet): void {
    this.socket?.write(generate(packet));
  }

  sendRaw(bytes: number[]): void {
    this.socket?.write(Buffer.from(bytes));
  }

  count(cmd: Packet["cmd"], messageId?: number): number {
    return this.received.filter((p) => p.cmd === cmd && (messageId === undefined || p.messageId === messageId)).length;
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

export interface TlsFiles {
  dir: string;
  ca: string;
  cert: string;
  key: string;
}

/**
 * A CA made for one test run and a server certificate it signed for 127.0.0.1 and localhost, all
 * readable by the user Mosquitto drops to. Needs the openssl command.
 */
export function makeTlsFiles(): TlsFiles {
  const dir = mkdtempSync(join(tmpdir(), "conn-tls-"));
  chmodSync(dir, 0o755);
  const openssl = (args: string): void => {
    execFileSync("openssl", args.split(" "), { cwd: dir, stdio: "ignore" });
  };
  openssl("req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=conn-test-ca -keyout ca.key -out ca.pem");
  openssl("req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server.key -out server.csr");
  writeFileSync(join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  openssl("x509 -req -days 1 -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -extfile san.ext -out server.pem");
  for (const f of ["ca.pem", "server.pem", "server.key"]) chmodSync(join(dir, f), 0o644);
  return { dir, ca: join(dir, "ca.pem"), cert: join(dir, "server.pem"), key: join(dir, "server.key") };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
