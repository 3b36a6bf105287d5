import { spawn } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { freeUdpPort } from "../support/gateway-command";
import { freePort } from "../support/mosquitto";
import { processesMentioning, processesWith, tcpPortFree, udpPortFree } from "./gateway-processes";

const repo = fileURLToPath(new URL("../..", import.meta.url));

/**
 * What a shell script does: `npm start … &`, wait for the ready line, `kill -SIG $!`, `wait $!`. With job control
 * on (`set -m`) npm runs in a process group of its own and the signal goes to the whole group, as Ctrl-C in a
 * terminal sends it. The script stops after the ready line until it reads a line, so the test can look at the
 * running gateway first.
 */
const SCRIPT = `
[ "$GROUP" = 1 ] && set -m
npm start -- --udp "127.0.0.1:$UDP_PORT" --embedded-port "$TCP_PORT" --config "$DIR/config.json" --log-level info \\
  >"$DIR/stdout" 2>"$DIR/stderr" &
pid=$!
for _ in $(seq 400); do
  grep -q ' ready: ' "$DIR/stdout" && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
echo "started $pid"
read -r _
if [ "$GROUP" = 1 ]; then kill -"$SIG" -- -"$pid"; else kill -"$SIG" "$pid"; fi
wait "$pid"
echo "exit $?"
`;

interface Run {
  dir: string;
  udpPort: number;
  tcpPort: number;
  /** Settles with the script's output once it has ended. */
  done: Promise<string>;
  /** Lets the script send its signal. */
  signal(): void;
  /** Settles once the script has printed "started". */
  started: Promise<void>;
}

async function runScript(signal: "TERM" | "INT", group: boolean): Promise<Run> {
  const dir = await mkdtemp(join(tmpdir(), "mqttsn-npm-start-"));
  await writeFile(join(dir, "config.json"), JSON.stringify({ sleep: { store: { path: join(dir, "sessions") } } }));
  const udpPort = await freeUdpPort();
  const tcpPort = await freePort();
  const child = spawn("bash", ["-c", SCRIPT], {
    cwd: repo,
    env: {
      ...process.env,
      DIR: dir,
      UDP_PORT: String(udpPort),
      TCP_PORT: String(tcpPort),
      SIG: signal,
      GROUP: group ? "1" : "0",
    },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let output = "";
  let onStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (onStarted = resolve));
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (text: string) => (output += text));
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (text: string) => {
    output += text;
    if (output.includes("started ")) onStarted();
  });
  const done = new Promise<string>((resolve) => child.once("close", () => resolve(output)));
  void done.then(onStarted);
  return { dir, udpPort, tcpPort, done, started, signal: () => child.stdin.end("go\n") };
}

describe("npm start stopped by a signal, the way a script does it", () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) {
      // A gateway left behind by a failed run still names its temporary folder in its --config argument.
      for (const pid of processesMentioning(dir)) process.kill(pid, "SIGKILL");
      await rm(dir, { recursive: true, force: true });
    }
  });

  const cases = [
    { signal: "TERM", group: false, what: "kill -TERM $!" },
    { signal: "INT", group: false, what: "kill -INT $!" },
    { signal: "INT", group: true, what: "SIGINT to the process group, as Ctrl-C sends it" },
  ] as const;

  for (const c of cases) {
    it(`${c.what}: npm exits 0, the gateway stopped cleanly, no process is left and the ports are free`, async () => {
      const run = await runScript(c.signal, c.group);
      dirs.push(run.dir);
      await run.started;
      const stdout = await readFile(join(run.dir, "stdout"), "utf8");
      expect(stdout).toContain(
        ` ready: MQTT-SN on udp 127.0.0.1:${run.udpPort}; broker mqtt://127.0.0.1:${run.tcpPort}`,
      );
      const gatewayWords = ["dist/gateway/main.js", `127.0.0.1:${run.udpPort}`];
      expect(processesWith(gatewayWords)).toHaveLength(1);
      expect(await udpPortFree(run.udpPort)).toBe(false);
      expect(await tcpPortFree(run.tcpPort)).toBe(false);

      run.signal();
      const output = await run.done;
      expect(output).toMatch(/^exit 0$/m);
      // npm waits for its script, so once it has exited nothing of the gateway may remain.
      expect(processesWith(gatewayWords)).toEqual([]);
      expect(await udpPortFree(run.udpPort)).toBe(true);
      expect(await tcpPortFree(run.tcpPort)).toBe(true);
      const records = (await readFile(join(run.dir, "stderr"), "utf8"))
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as { event: string; signal?: string });
      expect(records.filter((r) => r.event === "stopping")).toEqual([
        expect.objectContaining({ event: "stopping", signal: `SIG${c.signal}` }),
      ]);
    }, 30_000);
  }
});

describe("the bin", () => {
  it("says how to build the bundle when dist/ is missing, and exits 1", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mqttsn-bin-"));
    try {
      await mkdir(join(dir, "bin"));
      await copyFile(join(repo, "bin", "mqttsn-gateway.js"), join(dir, "bin", "mqttsn-gateway.js"));
      await writeFile(join(dir, "package.json"), JSON.stringify({ type: "module" }));
      const child = spawn(process.execPath, [join(dir, "bin", "mqttsn-gateway.js")], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      child.stderr.setEncoding("utf8").on("data", (t: string) => (stderr += t));
      const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
      expect(code).toBe(1);
      expect(stderr).toBe("mqttsn-gateway: dist/gateway/main.js is missing; build it with `npm run build`\n");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
