/**
 * The two characters of a short topic name travel in the 16-bit TopicId field (§3.3.2): the first
 * character is the high octet.
 */
export function shortTopicId(name: string): number {
  if (name.length !== 2) {
    throw new Error('a short topic name has exactly two characters, got "' + name + '"');
  }
  const high = name.charCodeAt(0);
  const low = name.charCodeAt(1);
  if (high > 0x7f || low > 0x7f) {
    throw new Error('a short topic name is two single-octet (ASCII) characters, got "' + name + '"');
  }
  return high * 256 + low;
}

export function shortTopicName(topicId: number): string {
  return String.fromCharCode(Math.floor(topicId / 256), topicId % 256);
}

/** True when an MQTT topic filter contains a wildcard level (+ or #). */
export function hasWildcard(filter: string): boolean {
  return filter.indexOf("+") >= 0 || filter.indexOf("#") >= 0;
}

/**
 * True when text may be published to: MQTT 3.1.1 §4.7.1 keeps the wildcard characters '+' and '#' for
 * topic filters (SUBSCRIBE), never for the topic name of a PUBLISH, REGISTER or predefined topic id.
 */
export function isTopicName(text: string): boolean {
  return !hasWildcard(text);
}
