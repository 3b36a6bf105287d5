/**
 * Child process for the SIGKILL test: writes messages to a LevelDB store one after another and prints
 * "stored SEQ TOPIC" once each write has resolved, until it is killed.
 */
import { LevelSessionStore } from "../../../gateway/store/level";

const path = process.argv[2];
if (path === undefined) throw new Error("usage: writer-child.ts STORE_PATH");
const store = new LevelSessionStore(path);
await store.open();
for (let i = 0; ; i++) {
  const topicName = `sensors/${i}`;
  const result = await store.addMessage("sleeper", {
    topicName,
    payload: new Uint8Array([i % 256]),
    qos: 1,
    retain: false,
  });
  if (!result.stored) break;
  process.stdout.write(`stored ${result.seq} ${topicName}\n`);
}
