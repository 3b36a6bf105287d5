import { describe } from "vitest";
import { SerialLink } from "../../transports/serial/serial-link";
import { FRAMINGS } from "../../transports/serial/framing";
import { systemHas } from "../support/system";
import { linkConformance } from "./link-conformance";
import { openSerialPeer } from "./serial-peer";
import { ptyPair } from "./support/pty";

const canRun = systemHas(["socat"], "apt-get install socat (it makes the pseudo-terminal pairs)");

describe.runIf(canRun)("SerialLink over a socat pseudo-terminal pair", () => {
  for (const framing of FRAMINGS) {
    linkConformance(`serial (${framing})`, async () => {
      const pty = await ptyPair();
      const peer = await openSerialPeer(pty.b, framing);
      const link = new SerialLink({ path: pty.a, baudRate: 115200, framing });
      return {
        link,
        peers: [{ address: pty.a, send: peer.send, received: peer.received }],
        dispose: async () => {
          await peer.close();
          await pty.dispose();
        },
      };
    });
  }
});
