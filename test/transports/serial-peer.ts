import { SerialPort } from "serialport";
import { createFramer, type Framing } from "../../transports/serial/framing";
import { FrameQueue } from "./support/frames";

/** The device end of a pty pair: a plain SerialPort with the same framing as the link under test. */
export interface SerialPeer {
  readonly port: SerialPort;
  readonly received: FrameQueue;
  /** Writes one framed message and waits until it left. */
  send(frame: Uint8Array): Promise<void>;
  /** Writes octets exactly as given (garbage, split frames, bad CRCs). */
  writeRaw(octets: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

export async function openSerialPeer(path: string, framing: Framing, mtu = 65535): Promise<SerialPeer> {
  const received = new FrameQueue();
  const framer = createFramer(framing, mtu, (m) => received.push(m));
  const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
  port.on("error", () => undefined);
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  port.on("data", (chunk: Buffer) => framer.push(chunk));
  const writeRaw = (octets: Uint8Array) =>
    new Promise<void>((resolve, reject) => {
      port.write(Buffer.from(octets), (err) => (err ? reject(err) : port.drain(() => resolve())));
    });
  return {
    port,
    received,
    send: (frame) => writeRaw(framer.encode(frame)),
    writeRaw,
    close: () => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())),
  };
}
