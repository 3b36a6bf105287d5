import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { inCi, systemHas } from "./system";

/** A process started inside a namespace: its output so far, and its end. */
export interface NsProcess {
  readonly pid: number;
  stdout(): string;
  stderr(): string;
  /** Settles with the exit code, or the signal's name when a signal ended it. */
  exited: Promise<number | string>;
  /** Waits until stdout matches; rejects with what was printed if the process ends first or after timeoutMs. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
}

export interface NsRun {
  code: number | string;
  stdout: string;
  stderr: string;
}

let created = 0;

/**
 * Whether network namespaces can be made here: iproute2 present (a missing one skips outside CI and fails in
 * CI, as systemHas does) and root (tests run as root here and in CI; elsewhere the suite is skipped).
 */
export function canMakeNamespaces(): boolean {
  if (!systemHas(["ip", "ss"], "sudo apt-get install -y iproute2")) return false;
  if (process.getuid?.() === 0) return true;
  const message = "network namespaces need root (ip netns add)";
  if (inCi) throw new Error(message);
  console.warn(`skipping suite: ${message}`);
  return false;
}

/**
 * A network namespace of its own with its loopback up, so that a command may use the fixed ports a document
 * gives (UDP 1884, TCP 1883, 9184) while other tests use them outside. `hosts` become /etc/hosts inside it
 * (`ip netns exec` mounts /etc/netns/NAME/hosts over /etc/hosts), so a documented host name resolves;
 * `addresses` are put on its loopback, so a documented LAN address is this namespace's own.
 */
export class NetNamespace {
  private readonly started: ChildProcess[] = [];

  private constructor(readonly name: string) {}

  static create(options: { hosts?: Record<string, string>; addresses?: string[] } = {}): NetNamespace {
    const name = `mqttsn-docs-${process.pid}-${++created}`;
    execFileSync("ip", ["netns", "add", name]);
    const ns = new NetNamespace(name);
    try {
      execFileSync("ip", ["-n", name, "link", "set", "lo", "up"]);
      for (const address of options.addresses ?? [])
        execFileSync("ip", ["-n", name, "addr", "add", `${address}/32`, "dev", "lo"]);
      if (options.hosts !== undefined) {
        mkdirSync(ns.etc, { recursive: true });
        const lines = ["127.0.0.1 localhost", "::1 localhost ip6-localhost ip6-loopback"];
        for (const [host, address] of Object.entries(options.hosts)) lines.push(`${address} ${host}`);
        writeFileSync(`${ns.etc}/hosts`, `${lines.join("\n")}\n`);
      }
    } catch (e) {
      ns.close();
      throw e;
    }
    return ns;
  }

  private get etc(): string {
    return `/etc/netns/${this.name}`;
  }

  /**
   * Starts `command args` inside the namespace (`ip netns exec` execs it, so the pid is the command's). With
   * `group` it leads a process group of its own, as a job in a terminal does, so that signalGroup reaches it
   * and its children the way Ctrl-C does.
   */
  spawn(
    command: string,
    args: string[],
    options: { cwd: string; group?: boolean; env?: NodeJS.ProcessEnv },
  ): NsProcess {
    const child = this.child(command, args, options);
    child.stdin?.end();
    return watch(child);
  }

  /** The same, as a ChildProcess whose stdin stays open for the caller. */
  child(
    command: string,
    args: string[],
    options: { cwd: string; group?: boolean; env?: NodeJS.ProcessEnv },
  ): ChildProcess {
    const child = spawn("ip", ["netns", "exec", this.name, command, ...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: options.group === true,
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.started.push(child);
    return child;
  }

  /** `bash -c LINE` inside the namespace (exec'd, so that a single command keeps the pid). */
  shell(line: string, options: { cwd: string; group?: boolean; env?: NodeJS.ProcessEnv }): NsProcess {
    return this.spawn("bash", ["-c", line], options);
  }

  /** Runs `bash -c LINE` inside the namespace to its end (killed after timeoutMs). */
  async run(line: string, options: { cwd: string; timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<NsRun> {
    const p = this.shell(line, options);
    const timer = setTimeout(() => {
      try {
        process.kill(p.pid, "SIGKILL");
      } catch {
        // ended meanwhile
      }
    }, options.timeoutMs ?? 30_000);
    const code = await p.exited;
    clearTimeout(timer);
    return { code, stdout: p.stdout(), stderr: p.stderr() };
  }

  /** The sockets listening on this port inside the namespace (`ss`), one line each; none when it is free. */
  listening(protocol: "udp" | "tcp", port: number): string[] {
    const out = execFileSync("ip", ["netns", "exec", this.name, "ss", "-Hn", protocol === "udp" ? "-lu" : "-lt"], {
      encoding: "utf8",
    });
    return out.split("\n").filter((line) => new RegExp(`[:\\]]${port}\\s`).test(`${line} `));
  }

  /** The pids of every process in the namespace: only what this test started runs there. */
  pids(): number[] {
    return execFileSync("ip", ["netns", "pids", this.name], { encoding: "utf8" })
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map(Number);
  }

  /** Waits until no process is left in the namespace; returns what is still there after timeoutMs. */
  async drained(timeoutMs = 5000): Promise<number[]> {
    const deadline = Date.now() + timeoutMs;
    let left = this.pids();
    while (left.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
      left = this.pids();
    }
    return left;
  }

  /** Ends what is left in the namespace (SIGKILL, by pid), then removes it and its /etc/netns folder. */
  close(): void {
    for (const child of this.started) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    let left: number[] = [];
    try {
      left = this.pids();
    } catch {
      // the namespace is gone already
    }
    for (const pid of left) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // ended meanwhile
      }
    }
    try {
      execFileSync("ip", ["netns", "del", this.name], { stdio: "ignore" });
    } catch {
      // never made, or removed already
    }
    rmSync(this.etc, { recursive: true, force: true });
  }
}

/** Sends a signal to a process group, as a terminal does to its foreground job on Ctrl-C. */
export function signalGroup(leader: NsProcess, signal: NodeJS.Signals): void {
  process.kill(-leader.pid, signal);
}

function watch(child: ChildProcess): NsProcess {
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (t: string) => (stdout += t));
  child.stderr?.setEncoding("utf8").on("data", (t: string) => (stderr += t));
  let done = false;
  const exited = new Promise<number | string>((resolve) =>
    child.once("close", (code, signal) => {
      done = true;
      resolve(code ?? signal ?? "unknown");
    }),
  );
  return {
    pid: child.pid as number,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitFor: async (pattern, timeoutMs = 20_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = pattern.exec(stdout);
        if (m !== null) return m;
        if (done || Date.now() > deadline)
          throw new Error(
            `no ${String(pattern)} (${done ? "the process ended" : `${timeoutMs} ms`}); stdout:\n${stdout}\nstderr:\n${stderr}`,
          );
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}
