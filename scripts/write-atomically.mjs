// Writes a build output so that a reader (another build or test run in the same tree) never sees
// half a file: the content goes to a temporary name beside the target, then is renamed over it.
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";

/** Writes content at file unless it is already there; returns whether the file changed. */
export function writeAtomically(file, content) {
  try {
    if (readFileSync(file, "utf8") === content) return false;
  } catch {
    // absent: write it
  }
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  writeFileSync(temporary, content);
  renameSync(temporary, file);
  return true;
}
