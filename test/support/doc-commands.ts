import { readFileSync } from "node:fs";

/** One shell command as a Markdown file gives it to a reader. */
export interface DocCommand {
  file: string;
  /** 1-based line where it starts. */
  line: number;
  /** The nearest heading above it. */
  section: string;
  /** From a fenced `sh` block, or an inline code span of the prose. */
  where: "block" | "inline";
  /**
   * As written: a block's line, with the lines a trailing `\` continues and a here-document's body (newlines
   * kept); an inline span with its whitespace (line breaks of the prose) made single spaces.
   */
  text: string;
}

/** A fenced `sh` block. */
export interface ShBlock {
  file: string;
  line: number;
  section: string;
  body: string;
}

/**
 * Programs whose name opens an inline code span that is a command a reader types (with at least one argument);
 * a bare name (`mosquitto_sub`, `node`) is a mention, not a command.
 */
const PROGRAMS = new Set([
  "bluetoothctl",
  "cat",
  "cp",
  "curl",
  "esptool.py",
  "espruino",
  "git",
  "hciconfig",
  "idf.py",
  "journalctl",
  "kill",
  "ls",
  "lua5.1",
  "lua5.3",
  "make",
  "mosquitto_sub",
  "mqttsn-gateway",
  "node",
  "nodemcu-tool",
  "npm",
  "npx",
  "pip",
  "stty",
  "sudo",
  "systemctl",
  "systemd-analyze",
  "udevadm",
]);

interface Parsed {
  blocks: ShBlock[];
  inline: DocCommand[];
}

const cache = new Map<string, Parsed>();

function parse(file: string): Parsed {
  const known = cache.get(file);
  if (known !== undefined) return known;
  const lines = readFileSync(file, "utf8").split("\n");
  const blocks: ShBlock[] = [];
  const inline: DocCommand[] = [];
  let section = "";
  let prose: { line: number; section: string; text: string }[] = [];
  const flushProse = () => {
    inline.push(...inlineCommands(file, prose));
    prose = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const fence = /^(\s*)```(\S*)\s*$/.exec(line);
    if (fence !== null) {
      flushProse();
      const indent = (fence[1] as string).length;
      const body: string[] = [];
      const start = i + 1;
      for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i] as string); i++)
        body.push((lines[i] as string).slice(indent));
      if (fence[2] === "sh") blocks.push({ file, line: start + 1, section, body: body.join("\n") });
      continue;
    }
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    if (heading !== null) {
      flushProse();
      section = heading[1] as string;
      continue;
    }
    if (line.trim() === "") flushProse();
    else prose.push({ line: i + 1, section, text: line });
  }
  flushProse();
  const parsed = { blocks, inline };
  cache.set(file, parsed);
  return parsed;
}

/** The commands of a paragraph's inline code spans (a span may run over a line break). */
function inlineCommands(file: string, paragraph: { line: number; section: string; text: string }[]): DocCommand[] {
  if (paragraph.length === 0) return [];
  const text = paragraph.map((p) => p.text).join("\n");
  const found: DocCommand[] = [];
  for (const m of text.matchAll(/`([^`]+)`/g)) {
    const span = (m[1] as string).replace(/\s+/g, " ").trim();
    const words = span.split(" ");
    const second = words[1];
    if (!PROGRAMS.has(words[0] as string) || second === undefined || second.endsWith(":")) continue;
    const lineIndex = text.slice(0, m.index).split("\n").length - 1;
    const at = paragraph[lineIndex] as { line: number; section: string };
    found.push({ file, line: at.line, section: at.section, where: "inline", text: span });
  }
  return found;
}

/** The commands of one `sh` block: comment and empty lines left out. */
export function blockCommands(block: ShBlock): DocCommand[] {
  const lines = block.body.split("\n");
  const commands: DocCommand[] = [];
  for (let i = 0; i < lines.length; i++) {
    const first = i;
    const line = lines[i] as string;
    if (line.trim() === "" || line.trim().startsWith("#")) continue;
    const parts = [line];
    while ((parts[parts.length - 1] as string).endsWith("\\") && i + 1 < lines.length) parts.push(lines[++i] as string);
    const heredoc = /<<-?'?(\w+)'?/.exec(parts.join("\n"));
    if (heredoc !== null) {
      const end = heredoc[1] as string;
      while (i + 1 < lines.length) {
        const next = lines[++i] as string;
        parts.push(next);
        if (next.trim() === end) break;
      }
    }
    commands.push({
      file: block.file,
      line: block.line + first,
      section: block.section,
      where: "block",
      text: parts.join("\n"),
    });
  }
  return commands;
}

/** Every `sh` block of a Markdown file. */
export function shBlocks(file: string): ShBlock[] {
  return parse(file).blocks;
}

/** Every command of a Markdown file: its `sh` blocks' lines, then its inline ones. */
export function docCommands(file: string): DocCommand[] {
  const parsed = parse(file);
  return [...parsed.blocks.flatMap(blockCommands), ...parsed.inline];
}

/**
 * The one `sh` block of `file` whose body matches, among those under a heading starting with `section` when
 * given; throws naming the file when there is none or more.
 */
export function blockWith(file: string, pattern: RegExp, section = ""): ShBlock {
  const matching = shBlocks(file).filter((b) => b.section.startsWith(section) && pattern.test(b.body));
  if (matching.length !== 1)
    throw new Error(
      `${file}: ${matching.length} sh blocks under "${section}" match ${String(pattern)}, expected exactly one`,
    );
  return matching[0] as ShBlock;
}

/** The one command of `file` (or of `among`) matching the pattern; throws naming the file when there is none or more. */
export function commandMatching(file: string, pattern: RegExp, among: DocCommand[] = docCommands(file)): DocCommand {
  const matching = among.filter((c) => pattern.test(c.text));
  if (matching.length !== 1)
    throw new Error(
      `${file}: ${matching.length} commands match ${String(pattern)}, expected exactly one${matching.length > 1 ? `: ${matching.map((c) => c.text).join(" | ")}` : ""}`,
    );
  return matching[0] as DocCommand;
}

/** The text of the inline code span that follows `before` in the prose (line breaks made spaces). */
export function quotedAfter(file: string, before: string): string {
  const text = readFileSync(file, "utf8").replace(/\s+/g, " ");
  const at = text.indexOf(before);
  if (at < 0) throw new Error(`${file} no longer says "${before}"`);
  const m = /`([^`]+)`/.exec(text.slice(at + before.length));
  if (m === null) throw new Error(`${file}: no code span after "${before}"`);
  return m[1] as string;
}

/**
 * `text` with each `from` replaced by its `to`; throws when a `from` is not in `text`, so that a
 * substitution a doc no longer needs (or a drifted command) shows instead of passing silently.
 */
export function substitute(text: string, replacements: ReadonlyArray<readonly [string, string]>): string {
  let result = text;
  for (const [from, to] of replacements) {
    if (!result.includes(from)) throw new Error(`"${from}" is not in the command: ${text}`);
    result = result.replaceAll(from, to);
  }
  return result;
}
