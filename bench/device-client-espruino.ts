// The Espruino figures of bench/device-client.ts measured in real interpreters: each binary named by
// ESPRUINO_BIN (several separated by ":") runs the library bundle loaded from Storage and as code in
// RAM, and the example bundle from Storage, against a gateway (embedded broker) on 127.0.0.1.
import { rmSync } from "node:fs";
import { delimiter, join } from "node:path";
import mqtt from "mqtt";
import { startGateway } from "../gateway/index";
import { emptyUsage, measure, prepareStorage, type EspruinoFigure, type EspruinoRun } from "./espruino-interpreter";

const COUNT = 100;
const BURST = 1000;

/** The interpreters named by ESPRUINO_BIN, none when it is unset or empty. */
export function espruinoBinaries(): string[] {
  return (process.env.ESPRUINO_BIN ?? "").split(delimiter).filter((b) => b !== "");
}

const BASE = "measuring script loaded";
const AFTER = `after connect + ${COUNT} QoS 1`;

interface Library {
  name: "full" | "sensor";
  /** Its name in the interpreter's Storage (at most 8 characters before the dot on some boards). */
  storage: string;
  /** Target: variables in use after construct + connect + 100 QoS 1, from Storage; and as code in RAM. */
  fromStorage: number;
  inRam: number | undefined;
}

const LIBRARIES: Library[] = [
  { name: "full", storage: "mqttsn.full", fromStorage: 1000, inRam: undefined },
  { name: "sensor", storage: "mqttsn.sens", fromStorage: 800, inRam: 1200 },
];

function usageAt(run: EspruinoRun, stage: string): number | undefined {
  return run.figures.find((f) => f.stage === stage)?.usage;
}

function verdict(value: number | undefined, target: number): string {
  return value === undefined ? "not reached" : `${value} (target <= ${target}: ${value <= target ? "met" : "MISSED"})`;
}

/** The issue's targets against what the interpreter measured: total variables in use, measuring script included. */
function printTargets(runs: EspruinoRun[], example: EspruinoRun, total: number | undefined): void {
  console.log("targets (variables in use, as process.memory() counts them, the measuring script included):");
  LIBRARIES.forEach((library, i) => {
    const [flash, ram] = [runs[2 * i] as EspruinoRun, runs[2 * i + 1] as EspruinoRun];
    console.log(`  ${library.name}, ${AFTER}, from Storage: ${verdict(usageAt(flash, AFTER), library.fromStorage)}`);
    if (library.inRam !== undefined) {
      console.log(`  ${library.name}, ${AFTER}, code in RAM: ${verdict(usageAt(ram, AFTER), library.inRam)}`);
    }
  });
  const peak = usageAt(example, "example: highest, sampled every 200 ms");
  const finished = usageAt(example, "example finished");
  const worst = peak === undefined || finished === undefined ? (peak ?? finished) : Math.max(peak, finished);
  if (total !== undefined) {
    console.log(
      `  example on the sensor profile, highest in use: ${verdict(worst, Math.floor(total / 2))} (half of ${total})`,
    );
  }
}

/** Variables in use, and in brackets the increase over the measuring script alone. */
function cell(f: EspruinoFigure | undefined, base: number | undefined): string {
  if (f === undefined || f.usage === undefined) return "-";
  const flags = f.flags !== undefined && f.flags.length > 0 ? ` [${f.flags.join(",")}]` : "";
  const over = base === undefined || f.stage === BASE ? "" : ` (+${f.usage - base})`;
  return `${f.usage}${over}${flags}`;
}

function stageNames(runs: EspruinoRun[]): string[] {
  const names: string[] = [];
  for (const r of runs)
    for (const f of r.figures) if (f.stage !== "interpreter" && !names.includes(f.stage)) names.push(f.stage);
  return names;
}

function printTable(columns: string[], runs: EspruinoRun[], empty: number | undefined): void {
  const width = 52;
  const w = 20;
  console.log(`${"stage (variables in use)".padEnd(width)} ${columns.map((c) => c.padStart(w)).join(" ")}`);
  const bare = `${empty ?? "-"}`.padStart(w);
  console.log(`${"empty interpreter, nothing loaded".padEnd(width)} ${runs.map(() => bare).join(" ")}`);
  const find = (r: EspruinoRun, stage: string) => r.figures.find((f) => f.stage === stage);
  for (const stage of stageNames(runs)) {
    const cells = runs.map((r) => cell(find(r, stage), find(r, BASE)?.usage).padStart(w));
    console.log(`${stage.padEnd(width)} ${cells.join(" ")}`);
  }
  runs.forEach((r, i) => {
    const notes = r.figures.filter((f) => f.note !== undefined && f.stage !== "interpreter");
    for (const f of notes) console.log(`  ${columns[i]}, ${f.stage}: ${f.note}`);
    console.log(`  ${columns[i]}: ${r.ended === undefined ? "did not finish" : `ended (${r.ended})`}`);
    for (const c of r.complaints.slice(0, 6)) console.log(`    interpreter: ${c}`);
  });
}

/** Prints the measured figures for every binary; bundles is the directory of the Espruino build. */
export async function printEspruinoFigures(bundles: string, bins: string[]): Promise<void> {
  const gateway = await startGateway({
    udp: ["127.0.0.1:0"],
    broker: "embedded",
    embeddedPort: 0,
    sleep: { store: { path: "" } },
  });
  const watcher = await mqtt.connectAsync(gateway.brokerUrl, { reconnectPeriod: 0, clientId: "bench-espruino" });
  const arrived = new Map<string, number>();
  watcher.on("message", (topic) => arrived.set(topic, (arrived.get(topic) ?? 0) + 1));
  await watcher.subscribeAsync("bench/espruino/#", { qos: 0 });
  const port = Number((gateway.udpAddresses[0] as string).split(":").pop());
  try {
    for (const [n, bin] of bins.entries()) {
      const cwd = await prepareStorage(bin, {
        "mqttsn.full": join(bundles, "mqttsn-client.min.js"),
        "mqttsn.sens": join(bundles, "mqttsn-sensor.min.js"),
        "mqttsn.ex": join(bundles, "publish.min.js"),
      });
      try {
        const lib = (library: Library, ram: boolean) => ({
          mode: "library" as const,
          file: library.storage,
          ram,
          port,
          clientId: `bench-${n}-${library.name}-${ram ? "ram" : "flash"}`,
          topic: `bench/espruino/${n}/${library.name}/${ram ? "ram" : "flash"}`,
          count: COUNT,
          burst: BURST,
        });
        const empty = await emptyUsage(bin, cwd);
        const runs: EspruinoRun[] = [];
        for (const library of LIBRARIES) {
          runs.push(await measure(bin, cwd, lib(library, false)), await measure(bin, cwd, lib(library, true)));
        }
        const example = await measure(bin, cwd, {
          mode: "example",
          file: "mqttsn.ex",
          port,
          clientId: `bench-${n}-example`,
          topic: `bench/espruino/${n}/example`,
          count: COUNT,
        });
        await new Promise((r) => setTimeout(r, 500));

        const figures = [...runs, example].flatMap((r) => r.figures);
        const info = figures.find((f) => f.stage === "interpreter");
        const total = figures.find((f) => f.total !== undefined)?.total;
        console.log(
          `\n### ${bin}: Espruino ${info?.note ?? "?"}, ${total ?? "?"} variables of ${info?.blocksize ?? "?"} octets`,
        );
        console.log(
          `libraries: connect, ${COUNT} QoS 1 publishes one after the other, then ${BURST} QoS 0 in one loop, disconnect`,
        );
        console.log(
          'from Storage: eval(require("Storage").read(...)), as load() of a saved file: function code stays in ' +
            "flash. Code in RAM: eval of a flat copy in RAM (freed after), function code copied into variables. " +
            "(+N): over the measuring script alone.",
        );
        const columns = LIBRARIES.flatMap((l) => [`${l.name}, Storage`, `${l.name}, RAM`]);
        printTable(columns, runs, empty);
        LIBRARIES.forEach((library, i) => {
          for (const ram of [false, true]) {
            const got = arrived.get(lib(library, ram).topic) ?? 0;
            console.log(
              `  ${columns[2 * i + (ram ? 1 : 0)]}: ${got} messages reached the broker (${COUNT} QoS 1 + ${BURST} QoS 0 sent)`,
            );
          }
        });
        console.log(`example (publish.min.js, sensor profile) from Storage, MQTTSN_CONFIG count ${COUNT}, QoS 1`);
        printTable(["from Storage"], [example], empty);
        printTargets(runs, example, total);
      } finally {
        rmSync(cwd, { recursive: true, force: true });
      }
    }
  } finally {
    await watcher.endAsync();
    await gateway.close();
  }
}
