import { describe, expect, it } from 'vitest';
import type { RecordedResource } from '../plan/offline.js';
import { estimateMonthlyCost } from '../plan/pricing.js';
import { displayType } from '../plan/resource-tree.js';
import { renderTable } from '../plan/table.js';
import { deployStack } from './support/program.js';

/** A registration as the offline run records it, under `parent` (a component) if given. */
function registered(
  type: string,
  name: string,
  { parent, custom = true, inputs = {} }: { parent?: RecordedResource; custom?: boolean; inputs?: object },
): RecordedResource {
  const chain = parent ? `${parent.urn.split('::')[2] ?? ''}$${type}` : type;
  return {
    urn: `urn:pulumi:dev::demo::${chain}::${name}`,
    type,
    name,
    id: `${name}-id`,
    inputs: inputs as Record<string, unknown>,
    custom,
    parentUrn: parent?.urn,
    protect: false,
    retainOnDelete: false,
    customTimeouts: {},
    ignoreChanges: [],
    dependsOn: [],
  };
}

/** Two components, one nesting a third, in the order the program registers them. */
const FIXTURE = (() => {
  const queues = registered('retainwise:messaging:PredictionQueues', 'predictions', { custom: false });
  const queue = registered('aws:sqs/queue:Queue', 'predictions-queue', {
    parent: queues,
    inputs: { name: 'q' },
  });
  const worker = registered('retainwise:worker:WorkerService', 'worker', { custom: false });
  const fargate = registered('retainwise:ecs:FargateService', 'worker', { parent: worker, custom: false });
  const cluster = registered('aws:ecs/cluster:Cluster', 'worker-cluster', {
    parent: fargate,
    inputs: { name: 'c' },
  });
  const repository = registered('aws:ecr/repository:Repository', 'worker-repository', {
    parent: worker,
    inputs: { name: 'r' },
  });
  return [queues, worker, queue, fargate, repository, cluster];
})();

const table = (resources: RecordedResource[], stack = 'dev') =>
  renderTable({ stack, project: 'demo', resources, outputs: {}, cost: estimateMonthlyCost(resources) }).split(
    '\n',
  );

/** Each resource line's op, type column and name, cut at the header's column starts, without the padding. */
function treeOf(lines: string[]): string[] {
  const header = lines[2] ?? '';
  const [name, settings] = [header.indexOf('Name'), header.indexOf('Key settings')];
  return lines
    .filter((l) => /^ [+=] /.test(l))
    .map((l) => `${l.slice(0, name).trimEnd()}  ${l.slice(name, settings).trimEnd()}`);
}

describe('the plan table, drawn like pulumi preview', () => {
  it('shortens a type the way pulumi displays it: the module file is dropped when it repeats the type name', () => {
    expect(displayType('aws:iam/rolePolicy:RolePolicy')).toBe('aws:iam:RolePolicy');
    expect(displayType('aws:sqs/queue:Queue')).toBe('aws:sqs:Queue');
    expect(displayType('docker-build:index:Image')).toBe('docker-build:index:Image');
    expect(displayType('retainwise:worker:WorkerService')).toBe('retainwise:worker:WorkerService');
    expect(displayType('pkg:mod/foo:Bar')).toBe('pkg:mod/foo:Bar');
  });

  it('puts the stack at the root and each component above its children, with tree glyphs', () => {
    const lines = table(FIXTURE);
    expect(lines[2]).toMatch(/^ {5}Type +Name +Key settings$/);
    expect(treeOf(lines)).toEqual([
      ' +   pulumi:pulumi:Stack  demo-dev',
      ' +   ├─ retainwise:messaging:PredictionQueues  predictions',
      ' =   │  └─ aws:sqs:Queue  predictions-queue',
      ' +   └─ retainwise:worker:WorkerService  worker',
      ' +      ├─ retainwise:ecs:FargateService  worker',
      ' =      │  └─ aws:ecs:Cluster  worker-cluster',
      ' +      └─ aws:ecr:Repository  worker-repository',
    ]);
    // Settings only for what a provider creates; a component's line ends with its name.
    expect(lines.find((l) => l.includes('predictions-queue'))).toMatch(/predictions-queue +name=q$/);
    expect(lines.find((l) => l.includes('PredictionQueues'))).toMatch(/predictions$/);
  });

  it('marks the existing resources that `--import-file` adopts with "=" (import), the rest with "+" (create)', async () => {
    expect(table(FIXTURE)).toContain(
      '+ 4 to create, = 2 to import (the existing resources that `npm run plan -- --import-file` adopts)',
    );
    const lines = table((await deployStack()).resources, 'prod');
    expect(lines.find((l) => / predictions-queue /.test(l))).toMatch(/^ = {3}│ {2}├─ aws:sqs:Queue /);
    expect(lines.find((l) => / worker-service /.test(l))).toMatch(/^ = {3}│ {2}│ {2}[├└]─ aws:ecs:Service /);
    expect(lines.find((l) => / predictions-queue-policy /.test(l))).toMatch(/^ \+ {3}/);
  });

  it('says in one line why --json lists more resources than the header counts', () => {
    const lines = table(FIXTURE);
    expect(lines[0]).toBe(
      'Offline plan of stack "dev": 3 resources in 3 components (no AWS account contacted)',
    );
    expect(lines).toContain(
      '--json lists 6 resources: the 3 counted above and the 3 components that group them (custom: false), not the stack',
    );
  });

  it('fits every line in 120 columns, cutting long names and settings with an ellipsis', async () => {
    const long = 'x'.repeat(64);
    const stack = await deployStack({
      queueName: `${long}-queue`,
      dlqName: `${long}-dlq`,
      workerTaskRoleName: long,
      executionRoleName: `${long.slice(1)}e`,
      clusterName: long,
      workerServiceName: long,
      alarmTopicName: long,
    });
    const lines = table(stack.resources, `a-stack-named-at-great-length-${'y'.repeat(80)}`);
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(120);
    expect(lines.find((l) => l.includes('pulumi:pulumi:Stack'))).toMatch(
      /demo-a-stack-named-at-great-length-y+…/,
    );
    expect(lines.find((l) => / predictions-queue /.test(l))).toMatch(/ name=x+…$/);
  });
});
