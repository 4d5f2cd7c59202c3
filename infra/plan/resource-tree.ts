// The resource table of `npm run plan`, drawn the way `pulumi preview` draws its tree: the stack at the root and
// each component with its children indented beneath it. Modelled on pulumi/pulumi pkg/backend/display:
// progress.go `addIndentations` (the `├─ ` / `└─ ` / `│  ` glyphs, prefixed to the type column), rows.go
// `ColorizedColumns` (op, type, name, then the rest) and tableutil.go `renderRow` (each column padded to its
// widest cell, two spaces apart). Unlike pulumi's terminal renderer, which clips a row at the terminal's edge,
// long cells are cut here, each to its column, so every line fits LINE_WIDTH whatever the terminal.
import type { RecordedResource } from './offline.js';

export const LINE_WIDTH = 120;
/** The widest the name and type columns get; what is longer is cut with an ellipsis. */
const NAME_MAX = 40;
const TYPE_MAX = 60;

/**
 * What the step does, by pulumi's prefix for it (pkg/resource/deploy/step.go `RawPrefix`): `+` create, `=`
 * import. The offline run has no state to diff against, so there is no `~` update or `-` delete.
 */
export type Op = '+' | '=';

export interface TreeRow {
  op: Op;
  /** The display type, after the tree glyphs of its depth. */
  type: string;
  name: string;
  settings: string;
}

/**
 * Pulumi's display name of a type: the module's last path segment is dropped when it only repeats the type name
 * (`aws:iam/rolePolicy:RolePolicy` → `aws:iam:RolePolicy`; pulumi sdk/go/common/tokens/tokens.go `DisplayName`).
 */
export function displayType(type: string): string {
  const [pkg, module, name, ...more] = type.split(':');
  const slash = module?.lastIndexOf('/') ?? -1;
  if (more.length > 0 || !name || !module || slash === -1) return type;
  const file = module.slice(slash + 1);
  return file === name.charAt(0).toLowerCase() + name.slice(1)
    ? `${pkg}:${module.slice(0, slash)}:${name}`
    : type;
}

interface Node {
  resource: RecordedResource;
  children: Node[];
}

/**
 * The rows of the tree in registration order: the stack (`pulumi:pulumi:Stack <project>-<stack>`, which the
 * engine registers, not the program), then every resource beneath its parent. Components show no settings.
 */
export function treeRows(
  resources: RecordedResource[],
  {
    project,
    stack,
    op,
    settings,
  }: {
    project: string;
    stack: string;
    op: (r: RecordedResource) => Op;
    settings: (r: RecordedResource) => string;
  },
): TreeRow[] {
  const nodes = new Map(resources.map((resource) => [resource.urn, { resource, children: [] as Node[] }]));
  const topLevel: Node[] = [];
  for (const node of nodes.values()) {
    // Like pulumi, a resource whose parent is unknown hangs off the stack.
    const parent = node.resource.parentUrn ? nodes.get(node.resource.parentUrn) : undefined;
    (parent?.children ?? topLevel).push(node);
  }
  const rows: TreeRow[] = [
    { op: '+', type: 'pulumi:pulumi:Stack', name: `${project}-${stack}`, settings: '' },
  ];
  const draw = (children: Node[], indentation: string) =>
    children.forEach(({ resource, children: grandchildren }, i) => {
      const last = i === children.length - 1;
      rows.push({
        op: op(resource),
        type: `${indentation}${last ? '└─ ' : '├─ '}${displayType(resource.type)}`,
        name: resource.name,
        settings: resource.custom ? settings(resource) : '',
      });
      draw(grandchildren, indentation + (last ? '   ' : '│  '));
    });
  draw(topLevel, '');
  return rows;
}

/** The rows as lines under a header, pulumi's column layout, each line at most `width` long. */
export function renderTree(rows: TreeRow[], width = LINE_WIDTH): string[] {
  const typeWidth = Math.min(TYPE_MAX, Math.max(4, ...rows.map((r) => r.type.length)));
  const nameWidth = Math.min(NAME_MAX, Math.max(4, ...rows.map((r) => r.name.length)));
  const line = (op: string, type: string, name: string, settings: string) =>
    clip(
      ` ${op.padEnd(2)}  ${clip(type, typeWidth).padEnd(typeWidth)}  ${clip(name, nameWidth).padEnd(nameWidth)}  ${settings}`.trimEnd(),
      width,
    );
  return [
    line('', 'Type', 'Name', 'Key settings'),
    ...rows.map((r) => line(r.op, r.type, r.name, r.settings)),
  ];
}

/** `text` cut to `width` characters, the last one an ellipsis when anything was cut. */
export const clip = (text: string, width: number): string =>
  text.length <= width ? text : `${text.slice(0, width - 1)}…`;
