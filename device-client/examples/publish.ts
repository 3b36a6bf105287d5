// The Node example: `tsx device-client/examples/publish.ts --host H --port P --client-id ID --topic T --count N --qos Q`.
import { defaultOptions } from "../core/options";
import { NodeUdpClient } from "../node/udp";
import { parseArgs } from "./args";
import { PublishApp } from "./publish-app";

let args;
try {
  args = parseArgs(process.argv.slice(2));
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
const udp = new NodeUdpClient(app.handler, options, { host: args.host, port: args.port });
app.client = udp.client;
await udp.start();
