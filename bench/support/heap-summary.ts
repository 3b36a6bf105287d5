// A V8 heap snapshot (.heapsnapshot) summed up by constructor, as the Summary view of Chrome's DevTools does:
// objects by their constructor's name, strings, arrays, closures and compiled code by kind. Self sizes only.
import { readFileSync } from "node:fs";

export interface ClassFigures {
  count: number;
  /** Octets of the objects themselves (not what they retain). */
  selfSize: number;
}

interface SnapshotJson {
  snapshot: { meta: { node_fields: string[]; node_types: unknown[]; edge_fields: string[]; edge_types: unknown[] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** Groups that only hold things for others: a node they hold is named after who holds them. */
const CONTAINERS = new Set([
  "Map",
  "Set",
  "Object",
  "Array",
  "(array)",
  "(array (object properties))",
  "(array (object elements))",
  "system / Context",
]);

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
      return name === "" ? "(array)" : `(array ${name})`;
    case "code":
      return "(compiled code)";
    default:
      return `(${type})`;
  }
}

/** A snapshot summed up two ways: by group, and by group with the property it hangs on ("Map ← Owner.field"). */
export interface HeapSummary {
  byGroup: Map<string, ClassFigures>;
  byHolder: Map<string, ClassFigures>;
}

function add(map: Map<string, ClassFigures>, key: string, size: number): void {
  const figures = map.get(key) ?? { count: 0, selfSize: 0 };
  figures.count++;
  figures.selfSize += size;
  map.set(key, figures);
}

export function summarizeHeapSnapshot(file: string): HeapSummary {
  const json = JSON.parse(readFileSync(file, "utf8")) as SnapshotJson;
  const meta = json.snapshot.meta;
  const fields = meta.node_fields;
  const types = meta.node_types[0] as string[];
  const width = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const edgeCountAt = fields.indexOf("edge_count");
  const nodes = json.nodes;
  const count = nodes.length / width;
  const groups: string[] = new Array<string>(count);
  for (let n = 0; n < count; n++)
    groups[n] = groupOf(
      types[nodes[n * width + typeAt] as number] ?? "?",
      json.strings[nodes[n * width + nameAt] as number] ?? "",
    );
  // The first strong retainer of each node: which node holds it, under which property.
  const edgeFields = meta.edge_fields;
  const edgeTypes = meta.edge_types[0] as string[];
  const edgeWidth = edgeFields.length;
  const edgeTypeAt = edgeFields.indexOf("type");
  const edgeNameAt = edgeFields.indexOf("name_or_index");
  const toAt = edgeFields.indexOf("to_node");
  const holder = new Int32Array(count).fill(-1);
  const holderEdge: string[] = new Array<string>(count);
  let e = 0;
  for (let n = 0; n < count; n++) {
    const edges = nodes[n * width + edgeCountAt] as number;
    for (let k = 0; k < edges; k++, e += edgeWidth) {
      const type = edgeTypes[json.edges[e + edgeTypeAt] as number];
      if (type === "weak" || type === "shortcut") continue;
      const to = (json.edges[e + toAt] as number) / width;
      if (holder[to] !== -1) continue;
      holder[to] = n;
      const nameOrIndex = json.edges[e + edgeNameAt] as number;
      holderEdge[to] =
        type === "element" || type === "hidden" ? `[${nameOrIndex}]` : (json.strings[nameOrIndex] ?? "?");
    }
  }
  const held = (n: number, hops: number): string => {
    const h = holder[n] as number;
    if (h < 0) return "";
    const here = `${groups[h]}.${holderEdge[n]}`;
    return hops > 0 && CONTAINERS.has(groups[h] as string) && holder[h] !== -1
      ? `${here} ← ${held(h, hops - 1)}`
      : here;
  };
  const byGroup = new Map<string, ClassFigures>();
  const byHolder = new Map<string, ClassFigures>();
  for (let n = 0; n < count; n++) {
    const size = nodes[n * width + sizeAt] as number;
    add(byGroup, groups[n] as string, size);
    add(byHolder, `${groups[n]} ← ${held(n, 2)}`, size);
  }
  return { byGroup, byHolder };
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
