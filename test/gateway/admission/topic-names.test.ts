import { describe, expect, it } from "vitest";
import { newAdmissionCounters } from "../../../gateway/admission/counters";
import { refusesTopicName } from "../../../gateway/admission/topic-names";
import type { Log } from "../../../transports/link";

function recordingLog(): Log & { warnings: Array<[string, Record<string, unknown>]> } {
  const warnings: Array<[string, Record<string, unknown>]> = [];
  return {
    warnings,
    debug() {},
    info() {},
    warn(event, fields) {
      warnings.push([event, fields ?? {}]);
    },
    error() {},
  };
}

describe("refusesTopicName (MQTT 3.1.1 §4.7.1)", () => {
  it("lets plain names through, uncounted and unlogged", () => {
    const counters = newAdmissionCounters();
    const log = recordingLog();
    for (const name of ["a/b", "ab", "sensors/temp", "/", "a b"])
      expect(refusesTopicName(name, counters, log, {})).toBe(false);
    expect(counters.topicNamesRefused).toBe(0);
    expect(log.warnings).toEqual([]);
  });

  it("refuses '+' and '#' anywhere in the name, counts and logs each refusal", () => {
    const counters = newAdmissionCounters();
    const log = recordingLog();
    for (const name of ["#", "+", "a/+", "a/#", "#a", "a+", "x/+/y"])
      expect(refusesTopicName(name, counters, log, { clientId: "c1" })).toBe(true);
    expect(counters.topicNamesRefused).toBe(7);
    expect(log.warnings[0]).toEqual([
      "topic-name-refused",
      { clientId: "c1", topic: "#", reason: "'+' and '#' are only allowed in topic filters" },
    ]);
  });
});
