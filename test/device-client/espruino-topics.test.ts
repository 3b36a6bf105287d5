import { describe, expect, it } from "vitest";
import { shortTopicId as portable } from "../../protocol/topics";
import { shortTopicId } from "../../device-client/espruino/topics";

/** The Espruino libraries' shortTopicId (§3.3.2) against protocol/topics.ts's. */
describe("Espruino shortTopicId", () => {
  it("gives the portable id of every two-character ASCII name", () => {
    for (const name of ["ab", "\u0000\u007f", "\u007f\u0000", "t1", "  "]) {
      expect(shortTopicId(name), JSON.stringify(name)).toBe(portable(name));
    }
  });

  it("refuses a name of another length or with a character beyond ASCII", () => {
    for (const name of ["", "a", "abc", "a\u0080", "\u00e9a", "é", "\u{1f600}"]) {
      expect(() => shortTopicId(name), JSON.stringify(name)).toThrow(/not a short topic/);
    }
  });
});
