// What `npm run plan` prints without flags: the resource tree, what it leaves out of its count, the stack outputs
// and the fixed monthly cost, every line at most LINE_WIDTH long (`--json` has every value uncut).
import { isAdopted } from './adopt.js';
import { summarize } from './key-settings.js';
import type { RecordedResource } from './offline.js';
import type { CostEstimate } from './pricing.js';
import { clip, LINE_WIDTH, renderTree, treeRows } from './resource-tree.js';

export interface PlanTable {
  stack: string;
  project: string;
  resources: RecordedResource[];
  outputs: Record<string, unknown>;
  cost: CostEstimate;
}

export function renderTable({ stack, project, resources, outputs, cost }: PlanTable): string {
  const custom = resources.filter((r) => r.custom).length;
  const components = resources.length - custom;
  const adopted = resources.filter(isAdopted).length;
  const rows = treeRows(resources, {
    project,
    stack,
    op: (r) => (isAdopted(r) ? '=' : '+'),
    settings: summarize,
  });
  const lines = [
    `Offline plan of stack "${stack}": ${custom} resources in ${components} components (no AWS account contacted)`,
    '',
    ...renderTree(rows),
    '',
    `+ ${resources.length - adopted} to create` +
      (adopted > 0
        ? `, = ${adopted} to import (the existing resources that \`npm run plan -- --import-file\` adopts)`
        : ''),
    `--json lists ${resources.length} resources: the ${custom} counted above and the ${components} components that group them (custom: false), not the stack`,
    '',
    'Outputs:',
    ...Object.entries(outputs)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `  ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`),
    '',
    'Estimated fixed monthly cost:',
    ...cost.lines.map((l) => `  $${l.monthlyUsd.toFixed(2).padStart(8)}  ${l.item} (${l.quantity})`),
    `  $${cost.fixedMonthlyUsd.toFixed(2).padStart(8)}  total`,
    'Usage-based, not included:',
    ...cost.usageBased.map((u) => `  - ${u}`),
    'Assumptions:',
    ...cost.assumptions.map((a) => `  - ${a}`),
  ];
  return lines.map((line) => clip(line, LINE_WIDTH)).join('\n');
}
