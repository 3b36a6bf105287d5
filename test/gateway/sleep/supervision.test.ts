import { describe, expect, it } from "vitest";
import { sleepDeadline } from "../../../gateway/sleep/supervision";

describe("sleep supervision", () => {
  it("loses a sleeping client after its duration plus the grace", () => {
    expect(sleepDeadline(1_000, 60, 5_000)).toBe(66_000);
    expect(sleepDeadline(0, 0, 0)).toBe(0);
  });
});
