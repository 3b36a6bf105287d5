// The Node example: `tsx device-client/examples/publish.ts --host H --port P --client-id ID --topic T --count N --qos Q`,
// over DTLS with `--dtls CAFILE [--cert FILE --key FILE]`.
import { readFileSync } from "node:fs";
import { defaultOptions } from "../core/options";
import { NodeDtlsClient } from "../node/dtls";
import { NodeUdpClient } from "../node/udp";
import { parseArgs, usage, wantsHelp } from "./args";
import { PublishApp } from "./publish-app";

const argv = process.argv.slice(2);
if (wantsHelp(argv)) {
  console.log(usage);
  process.exit(0);
}
let args;
try {
  args = parseArgs(argv);
} catch (e) {
  console.error((e as Error).message);
  process.exit(2);
}
const app = new PublishApp(
  args,
  {
    line: (text) => console.log(text),
    finished: (ok) => {
      udp.close();
      process.exitCode = ok ? 0 : 1;
    },
  },
  new Uint8Array(32) as unknown as number[],
);
const options = defaultOptions(args.clientId, Math.random);
options.keepAlive = 30;
// A lost gateway is tried again after 5 s rather than T_WAIT (5 minutes, §6.16), so a restarted
// gateway is found again while the example runs.
options.reconnectDelay = 5000;
const pem = (file: string): string | undefined => (file === "" ? undefined : readFileSync(file, "utf8"));
let udp: NodeUdpClient | NodeDtlsClient;
try {
  udp =
    args.dtls === ""
      ? new NodeUdpClient(app.handler, options, { host: args.host, port: args.port })
      : new NodeDtlsClient(app.handler, options, {
          host: args.host,
          port: args.port,
          caPem: readFileSync(args.dtls, "utf8"),
          ...(args.cert !== "" ? { certPem: pem(args.cert) as string, keyPem: pem(args.key) as string } : {}),
        });
} catch (e) {
  console.error(`cannot read the DTLS files: ${(e as Error).message}`);
  process.exit(2);
}
app.client = udp.client;
try {
  await udp.start();
} catch (e) {
  console.error(`cannot reach --host ${args.host}: ${(e as Error).message}`);
  process.exit(2);
}
