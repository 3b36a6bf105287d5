// Runs the Espruino bundles in a real Espruino interpreter for Linux (the binary ESPRUINO_BIN names)
// and reads the variables in use from its process.memory(). Files go into the interpreter's Storage
// (on Linux a file, espruino.flash, in the working directory) in small pieces, one interpreter run
// each, so that no piece costs more variables than the smallest layout has. bench/espruino-measure.js
// then runs each scenario; the client talks over Espruino's dgram to a real gateway on 127.0.0.1.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** One "@@" line of bench/espruino-measure.js. */
export interface EspruinoFigure {
  stage: string;
  usage?: number;
  total?: number;
  flags?: string[];
  note?: string;
  /** Octets per variable (the "interpreter" line). */
  blocksize?: number;
}

export interface EspruinoRun {
  figures: EspruinoFigure[];
  /** The note of the "end" line; undefined when the interpreter stopped before it (crash, timeout). */
  ended: string | undefined;
  /** The interpreter's own complaints: lines naming an error, memory or an assertion. */
  complaints: string[];
}

export interface LibraryScenario {
  mode: "library";
  file: string;
  ram: boolean;
  port: number;
  clientId: string;
  topic: string;
  count: number;
  burst: number;
}

export interface ExampleScenario {
  mode: "example";
  file: string;
  port: number;
  clientId: string;
  topic: string;
  count: number;
}

const DRIVER = "measure";
/** The Storage file bench/espruino-measure.js reads its scenario from. */
const CONFIG = "measure.json";
/** Octets stored per interpreter run: about 2,000 characters of base64 in the start line. */
const PIECE = 1536;

interface Output {
  lines: string[];
  code: number | null;
  timedOut: boolean;
}

/**
 * Runs the interpreter with one line of JavaScript. Its console reads standard input, which stays an
 * open pipe: at end of input the interpreter would read end-of-file characters as console input.
 * Ends when the process exits, or `timeoutMs` after start, or shortly after a line `until` matches.
 */
function runLine(bin: string, cwd: string, js: string, timeoutMs: number, until?: RegExp): Promise<Output> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ["-e", js], { cwd, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let timedOut = false;
    let stopping: NodeJS.Timeout | undefined;
    const stop = () => {
      if (child.exitCode === null) child.kill("SIGKILL");
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, timeoutMs);
    child.stdout.setEncoding("latin1");
    child.stderr.setEncoding("latin1");
    child.stdout.on("data", (d: string) => {
      out += d;
      if (until !== undefined && stopping === undefined && until.test(out)) stopping = setTimeout(stop, 500);
    });
    child.stderr.on("data", (d: string) => (out += d));
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (stopping !== undefined) clearTimeout(stopping);
      child.stdin.destroy();
      resolve({ lines: out.split(/\r?\n/), code, timedOut });
    });
  });
}

/** Writes content into the interpreter's Storage as `name`, piece by piece, and checks its length. */
async function store(bin: string, cwd: string, name: string, content: Buffer): Promise<void> {
  for (let offset = 0; offset < content.length; offset += PIECE) {
    const piece = content.subarray(offset, offset + PIECE).toString("base64");
    const size = offset === 0 ? `,${content.length}` : "";
    const js = `require("Storage").write(${JSON.stringify(name)},atob("${piece}"),${offset}${size})`;
    const r = await runLine(bin, cwd, js, 10_000);
    if (r.code !== 0) throw new Error(`Storage.write of ${name} at ${offset} failed: ${r.lines.join(" ")}`);
  }
  const r = await runLine(bin, cwd, `print("@@"+require("Storage").read(${JSON.stringify(name)}).length)`, 10_000);
  const stored = r.lines.find((l) => l.startsWith("@@"));
  if (stored !== `@@${content.length}`)
    throw new Error(`${name}: stored ${stored ?? "nothing"}, not ${content.length}`);
}

/** A working directory (and so a Storage) for one binary, holding the driver and the given files. */
export async function prepareStorage(bin: string, files: Record<string, string>): Promise<string> {
  const cwd = mkdtempSync(join(tmpdir(), "mqttsn-espruino-"));
  await store(bin, cwd, DRIVER, readFileSync(new URL("./espruino-measure.js", import.meta.url)));
  for (const [name, path] of Object.entries(files)) await store(bin, cwd, name, readFileSync(path));
  return cwd;
}

/** Variables in use right after start, with nothing loaded: a one-line script prints them. */
export async function emptyUsage(bin: string, cwd: string): Promise<number | undefined> {
  const r = await runLine(bin, cwd, 'print("@@"+process.memory().usage)', 10_000);
  const line = r.lines.find((l) => l.startsWith("@@"));
  return line === undefined ? undefined : Number(line.slice(2));
}

/** Runs one scenario of bench/espruino-measure.js in the interpreter. */
export async function measure(
  bin: string,
  cwd: string,
  scenario: LibraryScenario | ExampleScenario,
  timeoutMs = 60_000,
): Promise<EspruinoRun> {
  // The scenario goes into Storage first: the start line, held in RAM while it runs, stays short.
  const config = await runLine(
    bin,
    cwd,
    `require("Storage").writeJSON("${CONFIG}",${JSON.stringify(scenario)})`,
    10_000,
  );
  if (config.code !== 0) throw new Error(`Storage.writeJSON failed: ${config.lines.join(" ")}`);
  const r = await runLine(bin, cwd, `eval(require("Storage").read("${DRIVER}"))`, timeoutMs, /@@\{"stage":"end"/);
  const figures: EspruinoFigure[] = [];
  let ended: string | undefined;
  const complaints: string[] = [];
  for (const line of r.lines) {
    // A line printed from a callback can follow the console prompt and an escape sequence.
    const at = line.indexOf("@@{");
    if (at >= 0) {
      const f = JSON.parse(line.slice(at + 2)) as EspruinoFigure;
      if (f.stage === "end") ended = f.note ?? "";
      else figures.push(f);
    } else if (/error|memory|assert|uncaught|interrupt/i.test(line)) {
      complaints.push(line.trim());
    }
  }
  if (ended === undefined && complaints.length === 0) {
    // Nothing named the cause: the last lines the interpreter printed.
    const printed = r.lines.map((l) => l.trim()).filter((l) => l !== "" && !l.includes("@@") && l !== ">");
    complaints.push(...printed.slice(-4));
  }
  if (r.timedOut && ended === undefined) complaints.push(`(no end after ${timeoutMs} ms: stopped)`);
  else if (ended === undefined) complaints.push(`(the interpreter exited with code ${r.code} before the end)`);
  return { figures, ended, complaints };
}
