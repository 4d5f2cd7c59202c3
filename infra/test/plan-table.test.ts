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

const table = (resources: RecordedResource[], stack = 'dev') =>
  renderTable({ stack, project: 'demo', resources, outputs: {}, cost: estimateMonthlyCost(resources) }).split(
    '\n',
  );

/** The tree part of each resource line: op, type column and name, without the padding and the settings. */
const treeOf = (lines: string[]) =>
  lines.filter((l) => /^ [+=] {3}/.test(l)).map((l) => l.replace(/^( [+=] {3}\S.*?) {2,}(\S+).*$/, '$1  $2'));

describe('the plan table, drawn like pulumi preview', () => {
  it('shortens a type the way pulumi displays it: the module file is dropped when it repeats the type name', () => {
    expect(displayType('aws:iam/rolePolicy:RolePolicy')).toBe('aws:iam:RolePolicy');
    expect(displayType('aws:sqs/queue:Queue')).toBe('aws:sqs:Queue');
    expect(displayType('docker-build:index:Image')).toBe('docker-build:index:Image');
    expect(displayType('retainwise:worker:WorkerService')).toBe('retainwise:worker:WorkerService');
    expect(displayType('pkg:mod/foo:Bar')).toBe('pkg:mod/foo:Bar');
  });

  it('puts the stack at the root and each component above its children, with tree glyphs', () => {
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
    const lines = table([queues, worker, queue, fargate, repository, cluster]);
    expect(lines[2]).toMatch(/^ {5}Type +Name +Key settings$/);
    expect(treeOf(lines)).toEqual([
      ' +   pulumi:pulumi:Stack  demo-dev',
      ' +   ├─ retainwise:messaging:PredictionQueues  predictions',
      ' +   │  └─ aws:sqs:Queue  predictions-queue',
      ' +   └─ retainwise:worker:WorkerService  worker',
      ' +      ├─ retainwise:ecs:FargateService  worker',
      ' +      │  └─ aws:ecs:Cluster  worker-cluster',
      ' +      └─ aws:ecr:Repository  worker-repository',
    ]);
    // Settings only for what a provider creates; a component's line ends with its name.
    expect(lines.find((l) => l.includes('predictions-queue'))).toMatch(/predictions-queue +name=q$/);
    expect(lines.find((l) => l.includes('PredictionQueues'))).toMatch(/predictions$/);
  });

  it('marks the existing resources that `--import-file` adopts with "=" (import), the rest with "+" (create)', async () => {
    const lines = table((await deployStack()).resources, 'prod');
    expect(lines.find((l) => / predictions-queue /.test(l))).toMatch(/^ = {3}│ {2}├─ aws:sqs:Queue /);
    expect(lines.find((l) => / predictions-queue-policy /.test(l))).toMatch(/^ \+ {3}/);
    expect(lines).toContain(
      '+ 69 to create, = 11 to import (the existing resources that `npm run plan -- --import-file` adopts)',
    );
  });

  it('says in one line why --json lists more resources than the header counts', async () => {
    const lines = table((await deployStack()).resources, 'prod');
    expect(lines[0]).toMatch(/^Offline plan of stack "prod": 71 resources in 9 components /);
    expect(lines).toContain(
      '--json lists 80 resources: these 71 and the 9 components above them (custom: false), not the stack row',
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
