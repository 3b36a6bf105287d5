import { describe, expect, it } from "vitest";
import { ConnectAdmission, type ConnectAdmissionLimits } from "../../../gateway/admission/connect-admission";

interface Handshake {
  open: boolean;
}

function admission(limits: Partial<ConnectAdmissionLimits> = {}): ConnectAdmission<Handshake> {
  return new ConnectAdmission<Handshake>(
    { maxHandshakesPerSource: 8, maxConnectsPerSecondPerSource: 20, maxSources: 100, ...limits },
    (h) => h.open,
  );
}

describe("ConnectAdmission: CONNECTs per second per source", () => {
  it("admits a burst up to the rate, refuses the rest, and admits again as the bucket refills", () => {
    const a = admission({ maxConnectsPerSecondPerSource: 3 });
    const burst = [1, 2, 3, 4, 5].map(() => a.admitConnect("udp 10.0.0.7", 0));
    expect(burst).toEqual(["ok", "ok", "ok", "rate", "rate"]);
    expect(a.admitConnect("udp 10.0.0.7", 333)).toBe("rate");
    expect(a.admitConnect("udp 10.0.0.7", 334)).toBe("ok");
  });

  it("keeps one bucket per source: another source is still served", () => {
    const a = admission({ maxConnectsPerSecondPerSource: 1 });
    expect(a.admitConnect("udp 10.0.0.7", 0)).toBe("ok");
    expect(a.admitConnect("udp 10.0.0.7", 0)).toBe("rate");
    expect(a.admitConnect("udp 10.0.0.8", 0)).toBe("ok");
  });
});

describe("ConnectAdmission: handshakes per source", () => {
  it("refuses a source with maxHandshakesPerSource handshakes under way until one ends", () => {
    const a = admission({ maxHandshakesPerSource: 2 });
    const one = { open: true };
    const two = { open: true };
    expect(a.admitConnect("s", 0)).toBe("ok");
    a.handshakeStarted("s", one);
    expect(a.admitConnect("s", 0)).toBe("ok");
    a.handshakeStarted("s", two);
    expect(a.handshakes("s")).toBe(2);
    expect(a.admitConnect("s", 0)).toBe("handshakes");
    expect(a.admitConnect("other", 0)).toBe("ok");
    a.handshakeEnded("s", one);
    a.handshakeEnded("s", one);
    expect(a.handshakes("s")).toBe(1);
    expect(a.admitConnect("s", 0)).toBe("ok");
  });

  it("stops counting a handshake that left the handshake states without being reported", () => {
    const a = admission({ maxHandshakesPerSource: 1 });
    const h = { open: true };
    a.admitConnect("s", 0);
    a.handshakeStarted("s", h);
    expect(a.admitConnect("s", 0)).toBe("handshakes");
    h.open = false;
    expect(a.admitConnect("s", 0)).toBe("ok");
  });

  it("spends no token on a CONNECT refused for handshakes", () => {
    const a = admission({ maxHandshakesPerSource: 1, maxConnectsPerSecondPerSource: 2 });
    const h = { open: true };
    a.admitConnect("s", 0);
    a.handshakeStarted("s", h);
    for (let i = 0; i < 5; i++) expect(a.admitConnect("s", 0)).toBe("handshakes");
    h.open = false;
    expect(a.admitConnect("s", 0)).toBe("ok");
    expect(a.admitConnect("s", 0)).toBe("rate");
  });
});

describe("ConnectAdmission: the table of sources is bounded", () => {
  it("drops idle sources (full bucket, no handshake) as admissions go by", () => {
    const a = admission({ maxConnectsPerSecondPerSource: 10 });
    for (let i = 0; i < 6; i++) a.admitConnect(`s${i}`, 0);
    expect(a.size).toBe(6);
    // 100 ms later each bucket has its token back: every admission sweeps up to two idle sources.
    a.admitConnect("late", 100);
    a.admitConnect("late", 100);
    expect(a.size).toBeLessThan(6);
    for (let i = 0; i < 4; i++) a.admitConnect("late", 100 + i);
    expect(a.size).toBe(1);
    expect(a.forgotten).toBe(0);
  });

  it("when full, forgets the least recently seen source without a handshake, and counts a partly spent one", () => {
    const a = admission({ maxSources: 2, maxConnectsPerSecondPerSource: 1 });
    const h = { open: true };
    expect(a.admitConnect("busy", 0)).toBe("ok");
    a.handshakeStarted("busy", h);
    expect(a.admitConnect("spent", 0)).toBe("ok");
    expect(a.admitConnect("new", 0)).toBe("ok");
    expect(a.size).toBe(2);
    expect(a.forgotten).toBe(1);
    expect(a.handshakes("busy")).toBe(1);
    // "spent" was forgotten: it starts again from a full bucket.
    expect(a.admitConnect("spent", 0)).toBe("ok");
    expect(a.forgotten).toBe(2);
  });

  it("refuses a new source when every tracked source has a handshake under way", () => {
    const a = admission({ maxSources: 2 });
    for (const s of ["a", "b"]) {
      a.admitConnect(s, 0);
      a.handshakeStarted(s, { open: true });
    }
    expect(a.admitConnect("c", 0)).toBe("full");
    expect(a.admitConnect("a", 0)).toBe("ok");
    expect(a.size).toBe(2);
  });
});
