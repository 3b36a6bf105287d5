import { isAbsolute, resolve } from "node:path";

/** Keys of an access entry that name files: relative values are taken from the config file's folder. */
export const ACCESS_ENTRY_PATH_KEYS = ["passwordFile", "certFile", "keyFile"] as const;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * A copy of a config file's content whose access entries name their files (passwordFile, certFile, keyFile)
 * by absolute paths, relative ones taken from `folder`. It runs before the config is checked, since the check
 * reads those files; anything that is not an access entry's path is left as it is for the check to judge.
 */
export function resolveAccessPaths(input: unknown, folder: string): unknown {
  if (!isObject(input) || !isObject(input.access) || !Array.isArray(input.access.clients)) return input;
  const clients = input.access.clients.map((entry: unknown) => {
    if (!isObject(entry)) return entry;
    const out = { ...entry };
    for (const key of ACCESS_ENTRY_PATH_KEYS) {
      const given = out[key];
      if (typeof given === "string" && given !== "" && !isAbsolute(given)) out[key] = resolve(folder, given);
    }
    return out;
  });
  return { ...input, access: { ...input.access, clients } };
}
