import { createSocket } from "node:dgram";
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";

/** Pids of the processes that have every one of these words as an argument (read from /proc). */
export function processesWith(words: readonly string[]): number[] {
  return processes((argv) => words.every((w) => argv.includes(w)));
}

/** Pids of the processes whose command line mentions `text` anywhere (a shell's `-c` script too). */
export function processesMentioning(text: string): number[] {
  return processes((argv) => argv.some((a) => a.includes(text)));
}

function processes(matches: (argv: string[]) => boolean): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
    } catch {
      continue; // ended meanwhile
    }
    if (matches(argv)) pids.push(Number(entry));
  }
  return pids;
}

/** Whether UDP port `port` of 127.0.0.1 can be bound now (then released). */
export function udpPortFree(port: number): Promise<boolean> {
  const socket = createSocket("udp4");
  return new Promise((resolve) => {
    socket.once("error", () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, "127.0.0.1", () => socket.close(() => resolve(true)));
  });
}

/** Whether TCP port `port` of 127.0.0.1 can be listened on now (then released). */
export function tcpPortFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}
