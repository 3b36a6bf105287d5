import { utf8Length } from "../../protocol/text";

/**
 * shortTopicId for the Espruino libraries: protocol/topics.ts's, with one short message for both
 * refusals, the name (a library's code costs a board flash, and RAM when it is sent as code).
 */
export function shortTopicId(name: string): number {
  // §3.3.2: the two characters travel in the 16-bit TopicId field, the first as the high octet.
  // Two characters of one UTF-8 octet each: two ASCII characters.
  if (name.length !== 2 || utf8Length(name) !== 2) {
    throw new Error("not a short topic: " + name);
  }
  return name.charCodeAt(0) * 256 + name.charCodeAt(1);
}
