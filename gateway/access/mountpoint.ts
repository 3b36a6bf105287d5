/**
 * Mountpoints: a client's topics at the broker carry its prefix; the client never sees it. Filters in the
 * access entry are checked on the client's own topics, before the prefix is put on.
 */
export function mount(mountpoint: string | undefined, topic: string): string {
  return mountpoint === undefined ? topic : mountpoint + topic;
}

/** A broker topic as the client knows it; undefined when it lies outside the mountpoint. */
export function unmount(mountpoint: string | undefined, topic: string): string | undefined {
  if (mountpoint === undefined) return topic;
  return topic.startsWith(mountpoint) ? topic.slice(mountpoint.length) : undefined;
}

export function mountWill<W extends { topic: string }>(
  mountpoint: string | undefined,
  will: W | undefined,
): W | undefined {
  return will === undefined || mountpoint === undefined ? will : { ...will, topic: mountpoint + will.topic };
}
