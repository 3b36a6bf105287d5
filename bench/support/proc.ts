// Figures of processes and of the kernel, read from /proc (Linux): memory, CPU, UDP drops, TCP connections.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { cpus } from "node:os";

/** Resident memory (VmRSS) of a process, in KiB. */
export function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m === null ? NaN : Number(m[1]);
}

export function rssMb(pid: number): number {
  return rssKb(pid) / 1024;
}

/** CPU time of a process (utime + stime), in 1/100 s. */
export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

/** Nanoseconds the process's main thread has waited on a run queue for a CPU (/proc/PID/schedstat, 2nd field). */
export function runQueueWaitNs(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[1]);
}

/** "load average 0.52 0.40 0.31 on 2 cores": other work on the machine skews every figure. */
export function loadLine(): string {
  const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  return `load average ${load} on ${cpus().length} cores`;
}

/** Datagrams the kernel dropped because a UDP receive buffer was full (all sockets of this machine). */
export function udpRcvbufErrors(): number {
  const lines = readFileSync("/proc/net/snmp", "utf8")
    .split("\n")
    .filter((l) => l.startsWith("Udp:"));
  const names = (lines[0] ?? "").split(/\s+/);
  const values = (lines[1] ?? "").split(/\s+/);
  return Number(values[names.indexOf("RcvbufErrors")]);
}

function hexPort(port: number): string {
  return port.toString(16).toUpperCase().padStart(4, "0");
}

/** Datagrams dropped at the UDP socket bound to this local port (the "drops" column of /proc/net/udp). */
export function udpSocketDrops(port: number): number {
  for (const line of readFileSync("/proc/net/udp", "utf8").split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols[1] !== undefined && cols[1].endsWith(`:${hexPort(port)}`)) return Number(cols[cols.length - 1]);
  }
  return NaN;
}

/** Socket inodes a process holds open (from the socket:[inode] links in /proc/PID/fd). */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m !== null) inodes.add(m[1] as string);
    } catch {
      // closed between the listing and the read
    }
  }
  return inodes;
}

/** ESTABLISHED TCP connections of a process to a remote port (/proc/net/tcp, matched by socket inode). */
export function tcpConnectionsTo(pid: number, remotePort: number): number {
  const inodes = socketInodes(pid);
  let count = 0;
  for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[2]?.endsWith(`:${hexPort(remotePort)}`) === true && f[3] === "01" && inodes.has(f[9] ?? "")) count++;
  }
  return count;
}

/** File descriptors a process holds open. */
export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}
