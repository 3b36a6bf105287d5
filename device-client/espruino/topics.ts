/**
 * shortTopicId for the Espruino libraries: protocol/topics.ts's, with one short message for both
 * refusals, the name (a library's code costs a board flash, and RAM when it is sent as code).
 */
export function shortTopicId(name: string): number {
  // §3.3.2: the two characters travel in the 16-bit TopicId field, the first as the high octet.
  const high = name.charCodeAt(0);
  const low = name.charCodeAt(1);
  if (name.length !== 2 || high > 0x7f || low > 0x7f) {
    throw new Error("not a short topic: " + name);
  }
  return high * 256 + low;
}
