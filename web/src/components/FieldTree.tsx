import { useState } from "preact/hooks";
import type { Field } from "../api/types";
import { num } from "../api/types";
import { fmtNum } from "../data/format";

interface Node {
  name: string;
  children: Map<string, Node>;
  field?: Field;
}

export function buildTree(fields: readonly Field[]): Node {
  const root: Node = { name: "", children: new Map() };
  for (const f of fields) {
    let n = root;
    for (const seg of f.path.split("/")) {
      let c = n.children.get(seg);
      if (!c) {
        c = { name: seg, children: new Map() };
        n.children.set(seg, c);
      }
      n = c;
    }
    n.field = f;
  }
  return root;
}

function summary(f: Field): string {
  switch (f.type) {
    case "float_series":
      return `${f.count ?? 0} points, last ${fmtNum(num(f.last))} (min ${fmtNum(num(f.min))}, max ${fmtNum(num(f.max))})`;
    case "string_series":
    case "file_series":
      return `${f.count ?? 0} entries`;
    default:
      return fmtNum(f.value);
  }
}

function TreeNode(props: { node: Node; depth: number }) {
  const [open, setOpen] = useState(props.depth < 1);
  const kids = [...props.node.children.values()];
  const f = props.node.field;
  return (
    <li>
      {kids.length > 0 ? (
        <button class="link tree-toggle" onClick={() => setOpen(!open)}>
          {open ? "▾" : "▸"} {props.node.name}
        </button>
      ) : (
        <span class="tree-leaf">{props.node.name}</span>
      )}
      {f && (
        <span class="tree-value">
          <span class="muted small"> {f.type} </span>
          <span class="mono">{summary(f)}</span>
        </span>
      )}
      {open && kids.length > 0 && (
        <ul>
          {kids.map((k) => (
            <TreeNode key={k.name} node={k} depth={props.depth + 1} />
          ))}
        </ul>
      )}
    </li>
  );
}

export function FieldTree(props: { fields: readonly Field[] }) {
  const root = buildTree(props.fields);
  return (
    <ul class="tree">
      {[...root.children.values()].map((n) => (
        <TreeNode key={n.name} node={n} depth={0} />
      ))}
    </ul>
  );
}
