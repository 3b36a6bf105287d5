import { afterEach, describe, expect, it } from "vitest";
import type {
  DeviceStore,
  NewStoredMessage,
  SessionStore,
  SessionStoreLimits,
  StoredDevice,
  StoredSession,
} from "../../../gateway/store/session-store";

/** Every implementation here keeps aggregating mode's devices too. */
type Store = SessionStore & DeviceStore;

export function device(clientId: string, overrides: Partial<StoredDevice> = {}): StoredDevice {
  return {
    clientId,
    persistent: true,
    connected: true,
    subscriptions: [{ topicFilter: "cmd/#", qos: 1 }],
    will: { topicName: `wills/${clientId}`, payload: new Uint8Array([9, 0, 255]), qos: 1, retain: false },
    ...overrides,
  };
}

/** How a suite gets a fresh store, and the same data again as a "restarted" process would see it. */
export interface StoreHarness {
  create(limits?: Partial<SessionStoreLimits>): Promise<Store>;
  /** Closes the store and opens its data again (a new instance where the store is durable). */
  reopen(store: Store): Promise<Store>;
}

export function session(clientId: string, overrides: Partial<StoredSession> = {}): StoredSession {
  return {
    clientId,
    state: "asleep",
    duration: 300,
    keepAlive: 60,
    lastHeardAt: 1_700_000_000_000,
    link: "udp:127.0.0.1:1884",
    address: "127.0.0.1:40000",
    subscriptions: [
      { topicFilter: "sensors/+/cmd", qos: 1 },
      { topicFilter: "all/#", qos: 2 },
    ],
    topicIds: [{ topicName: "sensors/a/cmd", topicId: 7 }],
    ...overrides,
  };
}

export function message(topicName: string, qos: 1 | 2 = 1, payload: number[] = [1, 2, 3]): NewStoredMessage {
  return { topicName, payload: new Uint8Array(payload), qos, retain: false };
}

/** The one conformance suite every SessionStore implementation runs. */
export function sessionStoreConformance(name: string, harness: StoreHarness): void {
  describe(`SessionStore conformance: ${name}`, () => {
    const open: Store[] = [];
    const create = async (limits?: Partial<SessionStoreLimits>) => {
      const store = await harness.create(limits);
      open.push(store);
      return store;
    };
    const reopen = async (store: Store) => {
      const again = await harness.reopen(store);
      open.push(again);
      return again;
    };
    afterEach(async () => {
      for (const store of open.splice(0)) await store.close().catch(() => undefined);
    });

    it("writes, reads, replaces and deletes session records with every field", async () => {
      const store = await create();
      const withWill = session("s1", {
        will: { topicName: "status/s1", payload: new Uint8Array([0, 255, 7]), qos: 1, retain: true },
      });
      expect(await store.putSession(withWill)).toBe(true);
      expect(await store.putSession(session("s2", { state: "awake" }))).toBe(true);
      expect(await store.getSession("s1")).toEqual(withWill);
      expect(await store.getSession("nobody")).toBeUndefined();
      expect(await store.putSession(session("s1", { state: "active", duration: 0 }))).toBe(true);
      expect((await store.getSession("s1"))?.state).toBe("active");
      expect((await store.getSession("s1"))?.will).toBeUndefined();
      expect((await store.sessions()).map((s) => s.clientId).sort()).toEqual(["s1", "s2"]);
      expect(store.usage().sessions).toBe(2);
      await store.deleteSession("s1");
      expect(await store.getSession("s1")).toBeUndefined();
      expect(store.usage().sessions).toBe(1);
    });

    it("does not share arrays or bytes with the caller", async () => {
      const store = await create();
      const s = session("c");
      await store.putSession(s);
      s.subscriptions.push({ topicFilter: "late", qos: 0 });
      expect((await store.getSession("c"))?.subscriptions).toHaveLength(2);
      const m = message("t", 1, [9, 9]);
      const added = await store.addMessage("c", m);
      m.payload[0] = 0;
      expect(added.stored).toBe(true);
      expect([...(await store.messages("c"))[0]!.payload]).toEqual([9, 9]);
    });

    it("keeps each client's messages apart and in arrival order", async () => {
      const store = await create();
      const ids = ["ab", "abc", "a!b", "é ü", "a\u0000b"];
      for (let i = 0; i < 5; i++)
        for (const id of ids) await store.addMessage(id, message(`${id}/${i}`, i % 2 === 0 ? 1 : 2, [i]));
      for (const id of ids) {
        const got = await store.messages(id);
        expect(got.map((m) => m.topicName)).toEqual([0, 1, 2, 3, 4].map((i) => `${id}/${i}`));
        expect(got.map((m) => m.qos)).toEqual([1, 2, 1, 2, 1]);
        expect(got.every((m) => m.clientId === id)).toBe(true);
        const seqs = got.map((m) => m.seq);
        expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
      }
      expect(await store.messages("a")).toEqual([]);
      expect(store.usage().messages).toBe(25);
    });

    it("deletes an acknowledged message and ignores unknown ones", async () => {
      const store = await create();
      const a = await store.addMessage("c", message("a"));
      const b = await store.addMessage("c", message("b"));
      if (!a.stored || !b.stored) throw new Error("not stored");
      await store.deleteMessage("c", a.seq);
      await store.deleteMessage("c", a.seq);
      await store.deleteMessage("c", 999_999);
      await store.deleteMessage("other", b.seq);
      expect((await store.messages("c")).map((m) => m.topicName)).toEqual(["b"]);
      expect(store.usage()).toMatchObject({ messages: 1, bytes: 4 });
    });

    it("deleting a session deletes its messages and frees their room", async () => {
      const store = await create({ maxMessages: 3 });
      await store.putSession(session("c"));
      for (const t of ["a", "b", "c"]) await store.addMessage("c", message(t));
      expect((await store.addMessage("d", message("x"))).stored).toBe(false);
      await store.deleteSession("c");
      expect(await store.messages("c")).toEqual([]);
      expect(store.usage()).toEqual({ messages: 0, bytes: 0, sessions: 0 });
      expect((await store.addMessage("d", message("x"))).stored).toBe(true);
    });

    it("refuses messages beyond maxMessages and maxBytes, counts the refusals, accepts again once room is freed", async () => {
      const byCount = await create({ maxMessages: 2 });
      const first = await byCount.addMessage("c", message("a"));
      await byCount.addMessage("c", message("b"));
      expect(await byCount.addMessage("c", message("c"))).toEqual({ stored: false, reason: "messages" });
      expect(byCount.counters.refusedMessages).toBe(1);
      if (!first.stored) throw new Error("not stored");
      await byCount.deleteMessage("c", first.seq);
      expect((await byCount.addMessage("c", message("c"))).stored).toBe(true);
      expect((await byCount.messages("c")).map((m) => m.topicName)).toEqual(["b", "c"]);

      const byBytes = await create({ maxBytes: 10 });
      expect((await byBytes.addMessage("c", message("abc", 1, [1, 2, 3]))).stored).toBe(true);
      expect(await byBytes.addMessage("c", message("abc", 2, [1, 2, 3, 4, 5]))).toEqual({
        stored: false,
        reason: "bytes",
      });
      expect((await byBytes.addMessage("c", message("ab", 2, [1, 2]))).stored).toBe(true);
      expect(byBytes.usage()).toMatchObject({ messages: 2, bytes: 10 });
      expect(byBytes.counters.refusedMessages).toBe(1);
    });

    it("never overshoots the limits with concurrent writes", async () => {
      const store = await create({ maxMessages: 5 });
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.addMessage("c", message(`t${i}`))));
      expect(results.filter((r) => r.stored)).toHaveLength(5);
      expect((await store.messages("c")).map((m) => m.topicName)).toEqual(["t0", "t1", "t2", "t3", "t4"]);
    });

    it("refuses a new session record beyond maxSessions but replaces existing ones", async () => {
      const store = await create({ maxSessions: 2 });
      expect(await store.putSession(session("a"))).toBe(true);
      expect(await store.putSession(session("b"))).toBe(true);
      expect(await store.putSession(session("c"))).toBe(false);
      expect(await store.putSession(session("a", { state: "awake" }))).toBe(true);
      expect(store.counters.refusedSessions).toBe(1);
      expect(await store.getSession("c")).toBeUndefined();
    });

    it("rejects limits below 1 with a message naming the limit", async () => {
      await expect(harness.create({ maxBytes: 0 })).rejects.toThrow(/maxBytes/);
    });

    it("after a reopen holds the same sessions, messages, usage, and carries on with later seqs", async () => {
      const store = await create();
      await store.putSession(session("c", { state: "asleep", duration: 1234 }));
      const a = await store.addMessage("c", message("a", 1, [1]));
      const b = await store.addMessage("c", message("b", 2, [2, 2]));
      if (!a.stored || !b.stored) throw new Error("not stored");
      await store.deleteMessage("c", a.seq);
      const before = store.usage();
      const again = await reopen(store);
      expect(again.usage()).toEqual(before);
      expect(await again.getSession("c")).toEqual(session("c", { state: "asleep", duration: 1234 }));
      const kept = await again.messages("c");
      expect(kept).toEqual([
        { clientId: "c", seq: b.seq, topicName: "b", payload: new Uint8Array([2, 2]), qos: 2, retain: false },
      ]);
      const c = await again.addMessage("c", message("c"));
      expect(c.stored && c.seq > b.seq).toBe(true);
      expect((await again.messages("c")).map((m) => m.topicName)).toEqual(["b", "c"]);
    });

    it("keeps aggregating mode's devices and parked messages apart from sessions and messages, across a reopen", async () => {
      const store = await create();
      await store.putSession(session("c"));
      const m = await store.addMessage("c", message("session/msg"));
      expect(await store.putDevice(device("c"))).toBe(true);
      expect(await store.putDevice(device("d", { connected: false, subscriptions: [] }))).toBe(true);
      const p1 = await store.addParked("c", message("parked/1", 1, [1]));
      const p2 = await store.addParked("c", message("parked/2", 2, [2, 2]));
      if (!m.stored || !p1.stored || !p2.stored) throw new Error("not stored");
      expect(store.usage().messages).toBe(3);
      await store.deleteParked("c", p1.seq);

      const again = await reopen(store);
      expect((await again.messages("c")).map((x) => x.topicName)).toEqual(["session/msg"]);
      expect(await again.parked("c")).toEqual([
        { clientId: "c", seq: p2.seq, topicName: "parked/2", payload: new Uint8Array([2, 2]), qos: 2, retain: false },
      ]);
      const devices = (await again.devices()).sort((a, b) => a.clientId.localeCompare(b.clientId));
      expect(devices).toEqual([device("c"), device("d", { connected: false, subscriptions: [] })]);
      expect(again.usage().messages).toBe(2);
      // A device's record and its parked messages go together; the session of the same client id stays.
      await again.deleteDevice("c");
      expect(await again.parked("c")).toEqual([]);
      expect((await again.messages("c")).length).toBe(1);
      expect(await again.getSession("c")).toEqual(session("c"));
      expect(again.usage().messages).toBe(1);
    });

    it("counts parked messages against maxMessages and refuses devices beyond maxSessions", async () => {
      const store = await create({ maxMessages: 2, maxSessions: 1 });
      expect((await store.addParked("c", message("a"))).stored).toBe(true);
      expect((await store.addMessage("c", message("b"))).stored).toBe(true);
      expect(await store.addParked("c", message("c"))).toEqual({ stored: false, reason: "messages" });
      expect(await store.putDevice(device("c"))).toBe(true);
      expect(await store.putDevice(device("c", { connected: false }))).toBe(true);
      expect(await store.putDevice(device("other"))).toBe(false);
      expect(store.counters.refusedSessions).toBe(1);
    });
  });
}
