import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ClassicLevel } from "classic-level";
import { afterAll, describe, expect, it } from "vitest";
import { LevelSessionStore } from "../../../gateway/store/level";
import { message, session, sessionStoreConformance } from "./conformance";

const root = await mkdtemp(join(tmpdir(), "mqttsn-store-"));
let serial = 0;
const freshPath = () => join(root, `db${serial++}`);
afterAll(() => rm(root, { recursive: true, force: true }));

sessionStoreConformance("LevelSessionStore", {
  async create(limits) {
    const store = new LevelSessionStore(freshPath(), limits);
    await store.open();
    return store;
  },
  async reopen(store) {
    await store.close();
    const again = new LevelSessionStore(store.location, store.limits);
    await again.open();
    return again;
  },
});

describe("LevelSessionStore on disk", () => {
  it("creates missing parent directories", async () => {
    const store = new LevelSessionStore(join(freshPath(), "deeper", "sessions"));
    await store.open();
    expect((await store.addMessage("c", message("t"))).stored).toBe(true);
    await store.close();
  });

  it("refuses a second opener of the same directory and tells what to do", async () => {
    const path = freshPath();
    const first = new LevelSessionStore(path);
    await first.open();
    const second = new LevelSessionStore(path);
    await expect(second.open()).rejects.toThrow(/another process .* holds it/);
    await expect(second.open()).rejects.toMatchObject({ code: "STORE_LOCKED" });
    await first.close();
  });

  it("skips, deletes and counts unreadable records when it opens", async () => {
    const path = freshPath();
    const store = new LevelSessionStore(path);
    await store.open();
    await store.putSession(session("good"));
    await store.addMessage("good", message("kept"));
    await store.close();
    const raw = new ClassicLevel<string, Uint8Array>(path, { keyEncoding: "utf8", valueEncoding: "view" });
    await raw.open();
    await raw.put("m!676f6f64!000000000009", new Uint8Array([1, 7, 0, 0]));
    await raw.put("m!zz!000000000010", new Uint8Array([1, 1, 0, 0, 0]));
    await raw.put("s!626164", new Uint8Array([1, 123]));
    await raw.close();
    const again = new LevelSessionStore(path);
    await again.open();
    expect(again.counters.corrupt).toBe(3);
    expect(again.usage()).toMatchObject({ messages: 1, sessions: 1 });
    expect((await again.messages("good")).map((m) => m.topicName)).toEqual(["kept"]);
    await again.close();
    const third = new LevelSessionStore(path);
    await third.open();
    expect(third.counters.corrupt).toBe(0);
    await third.close();
  });

  it("keeps every message whose write had resolved when the writing process is killed with SIGKILL", async () => {
    const path = freshPath();
    const child = spawn(
      process.execPath,
      ["--import", "tsx", fileURLToPath(new URL("./writer-child.ts", import.meta.url)), path],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const reported: string[] = [];
    let pending = "";
    await new Promise<void>((resolve, reject) => {
      child.on("exit", (code) => reject(new Error(`writer exited early (${code}): ${stderr}`)));
      child.stdout.on("data", (d: Buffer) => {
        pending += d.toString();
        const lines = pending.split("\n");
        pending = lines.pop()!;
        for (const line of lines) reported.push(line.split(" ")[2]!);
        if (reported.length >= 200) resolve();
      });
    });
    child.removeAllListeners("exit");
    const exited = new Promise((resolve) => child.on("exit", resolve));
    child.kill("SIGKILL");
    await exited;
    const store = new LevelSessionStore(path);
    await store.open();
    const kept = (await store.messages("sleeper")).map((m) => m.topicName);
    await store.close();
    expect(kept.slice(0, reported.length)).toEqual(reported);
    expect(kept.length - reported.length).toBeLessThanOrEqual(1);
  });
});
