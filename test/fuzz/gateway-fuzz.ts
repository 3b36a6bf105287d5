// Black-box fuzzer of the real gateway process: fuzzed MQTT-SN datagrams over UDP from many sockets,
// then a well-behaved client must still be served end to end.
//
//   npm run fuzz -- [--datagrams 1000000] [--clients 20] [--seed S] [--broker embedded|mosquitto]
//                   [--keep-going] [--max-rss-mb 400]
//
// Exit code 0 when the gateway passed, 1 with the reasons when it did not, 2 on a usage error.
//
// The RSS bound: a healthy gateway peaked at 155 MB over 1,000,000 datagrams with Mosquitto (130 MB after
// 100,000, slowly rising) and at 162 MB over 300,000 with the embedded broker; 400 MB leaves room for a
// lazier garbage collector on a loaded machine and still catches a leak of a few hundred octets per datagram.
import { parseArgs } from "node:util";
import { hasCommand } from "../support/system";
import { runFuzz, type FuzzOptions } from "./run-fuzz";

const usage = `Usage: npm run fuzz -- [options]

  --datagrams N      datagrams to send (default 1000000)
  --clients N        source sockets, on 127.0.0.1, 127.0.0.2 and 127.0.0.3 (default 20)
  --seed S           seed of the datagram sequence; the same seed sends the same datagrams (default: random)
  --broker B         embedded or mosquitto (default mosquitto when the binary is installed)
  --keep-going       restart the gateway after a crash and count the crashes
  --max-rss-mb N     fail when the gateway's resident set passes N MB (default 400)
`;

function parse(): FuzzOptions {
  const { values } = parseArgs({
    options: {
      datagrams: { type: "string", default: "1000000" },
      clients: { type: "string", default: "20" },
      seed: { type: "string" },
      broker: { type: "string" },
      "keep-going": { type: "boolean", default: false },
      "max-rss-mb": { type: "string", default: "400" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(usage);
    process.exit(0);
  }
  const count = (name: string, text: string, min: number): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} ${JSON.stringify(text)}: an integer ≥ ${min}`);
    return n;
  };
  const broker = values.broker ?? (hasCommand("mosquitto") ? "mosquitto" : "embedded");
  if (broker !== "embedded" && broker !== "mosquitto")
    throw new Error(`--broker ${JSON.stringify(broker)}: embedded or mosquitto`);
  return {
    datagrams: count("datagrams", values.datagrams, 1),
    clients: count("clients", values.clients, 1),
    seed: values.seed ?? Math.floor(Math.random() * 0x100000000).toString(16),
    broker,
    keepGoing: values["keep-going"],
    maxRssMb: count("max-rss-mb", values["max-rss-mb"], 1),
  };
}

async function main(): Promise<void> {
  let options: FuzzOptions;
  try {
    options = parse();
  } catch (err) {
    process.stderr.write(`fuzz: ${(err as Error).message}\n\n${usage}`);
    process.exit(2);
  }
  const print = (line: string): void => void process.stdout.write(line + "\n");
  let result;
  try {
    result = await runFuzz({ ...options, report: print });
  } catch (err) {
    process.stderr.write(`fuzz: the run could not be carried out: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const events = Object.entries(result.logEvents).sort((a, b) => b[1] - a[1]);
  if (events.length > 0) print(`gateway log events: ${events.map(([e, n]) => `${e} ${n}`).join(", ")}`);
  for (const crash of result.crashReports.slice(0, 10)) print(`crash ${crash}`);
  if (result.crashReports.length > 10) print(`… and ${result.crashReports.length - 10} more crashes`);
  for (const line of result.exceptionLines.slice(0, 10)) print(`stderr: ${line}`);
  for (const failure of result.failures) print(`FAIL: ${failure}`);
  if (result.keptDir !== undefined) print(`gateway stderr kept in ${result.keptDir}/gateway-stderr.log`);
  print(result.summary);
  process.exit(result.passed ? 0 : 1);
}

void main();
