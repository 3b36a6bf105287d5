import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LazySessionStore, storePathExists } from "../../../gateway/store/lazy";
import { LevelSessionStore } from "../../../gateway/store/level";
import { MemorySessionStore } from "../../../gateway/store/memory";
import { message, sessionStoreConformance } from "./conformance";

const root = await mkdtemp(join(tmpdir(), "mqttsn-lazy-"));
afterAll(() => rm(root, { recursive: true, force: true }));

sessionStoreConformance("LazySessionStore over MemorySessionStore", {
  async create(limits) {
    return new LazySessionStore(new MemorySessionStore(limits));
  },
  async reopen(store) {
    await store.close();
    await store.open();
    return store;
  },
});

describe("LazySessionStore", () => {
  it("takes the LevelDB lock only on first use, so two gateways without sleepers can share a path", async () => {
    const path = join(root, "shared");
    const a = new LazySessionStore(new LevelSessionStore(path));
    const b = new LazySessionStore(new LevelSessionStore(path));
    expect(a.opened).toBe(false);
    expect(a.usage()).toEqual({ messages: 0, bytes: 0, sessions: 0 });
    expect((await a.addMessage("c", message("t"))).stored).toBe(true);
    expect(a.opened).toBe(true);
    await expect(b.addMessage("c", message("t"))).rejects.toThrow(/holds it/);
    await a.close();
    // The failed open is tried again on the next use.
    expect((await b.messages("c")).map((m) => m.topicName)).toEqual(["t"]);
    await b.close();
    await b.close();
  });

  it("leaves the directory untouched and unlocked until first use, however long that takes", async () => {
    // A ClassicLevel opens itself once constructed; the store must not make one before it is used.
    const path = join(root, "untouched");
    const unused = new LazySessionStore(new LevelSessionStore(path));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(existsSync(path)).toBe(false);
    const other = new LevelSessionStore(path);
    await other.open();
    await expect(unused.messages("c")).rejects.toMatchObject({ code: "STORE_LOCKED" });
    await other.close();
    expect(await unused.messages("c")).toEqual([]);
    await unused.close();
  });

  it("checks at start-up whether the path exists or can be created", async () => {
    expect(storePathExists(root)).toBe(true);
    expect(storePathExists(join(root, "not", "yet"))).toBe(false);
    const locked = join(root, "locked");
    await mkdir(locked);
    await chmod(locked, 0o500);
    try {
      if (process.getuid?.() !== 0) expect(() => storePathExists(join(locked, "sessions"))).toThrow(/not writable/);
    } finally {
      await chmod(locked, 0o700);
    }
  });
});
