// A V8 heap snapshot (.heapsnapshot) summed up by constructor, as the Summary view of Chrome's DevTools does:
// objects by their constructor's name, strings, arrays, closures and compiled code by kind. Self sizes only.
import { readFileSync } from "node:fs";

export interface ClassFigures {
  count: number;
  /** Octets of the objects themselves (not what they retain). */
  selfSize: number;
}

interface SnapshotJson {
  snapshot: { meta: { node_fields: string[]; node_types: unknown[] } };
  nodes: number[];
  strings: string[];
}

/** The group a heap node is counted in: its constructor for objects, a kind in parentheses otherwise. */
function groupOf(type: string, name: string): string {
  switch (type) {
    case "object":
    case "native":
      return name.length > 70 ? `${name.slice(0, 67)}...` : name;
    case "closure":
      return `(closure ${name || "anonymous"})`;
    case "string":
    case "concatenated string":
    case "sliced string":
      return "(string)";
    case "array":
      return `(array ${name})`;
    case "code":
      return "(compiled code)";
    default:
      return `(${type})`;
  }
}

export function summarizeHeapSnapshot(file: string): Map<string, ClassFigures> {
  const json = JSON.parse(readFileSync(file, "utf8")) as SnapshotJson;
  const fields = json.snapshot.meta.node_fields;
  const types = json.snapshot.meta.node_types[0] as string[];
  const width = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const groups = new Map<string, ClassFigures>();
  const nodes = json.nodes;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt] as number] ?? "?";
    const name = json.strings[nodes[i + nameAt] as number] ?? "";
    const group = groupOf(type, name);
    const figures = groups.get(group) ?? { count: 0, selfSize: 0 };
    figures.count++;
    figures.selfSize += nodes[i + sizeAt] as number;
    groups.set(group, figures);
  }
  return groups;
}

export interface GroupGrowth {
  group: string;
  /** Objects more, per device added. */
  countPerDevice: number;
  /** Octets more, per device added. */
  bytesPerDevice: number;
}

/** What grew between two snapshots, per device added, largest first. */
export function growthPerDevice(
  before: Map<string, ClassFigures>,
  after: Map<string, ClassFigures>,
  devicesAdded: number,
): GroupGrowth[] {
  const out: GroupGrowth[] = [];
  for (const [group, a] of after) {
    const b = before.get(group) ?? { count: 0, selfSize: 0 };
    out.push({
      group,
      countPerDevice: (a.count - b.count) / devicesAdded,
      bytesPerDevice: (a.selfSize - b.selfSize) / devicesAdded,
    });
  }
  return out.sort((x, y) => y.bytesPerDevice - x.bytesPerDevice);
}
