/** Polls check every 10 ms until it holds; throws naming what was awaited after ms. */
export async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** ClientState values by number, for readable transcripts. */
export const stateNames = [
  "Disconnected",
  "Searching",
  "Connecting",
  "Active",
  "Asleep",
  "Awake",
  "Lost",
  "Disconnecting",
];
