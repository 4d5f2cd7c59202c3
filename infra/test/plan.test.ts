import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { adoptionImportFile } from '../plan/adopt.js';
import { placeholderWarnings } from '../plan/placeholders.js';
import { readStackFiles } from '../plan/plan.js';
import { estimateMonthlyCost, fargateTaskHour, scheduledFunctionUsd } from '../plan/pricing.js';
import { deployStack } from './support/program.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const plan = (...args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'infra/plan/plan.ts', ...args], {
    cwd: ROOT,
    maxBuffer: 64 * 1024 * 1024,
  });

interface PlanJson {
  stack: string;
  resources: { type: string; name: string; urn: string; custom: boolean; inputs: Record<string, unknown> }[];
  outputs: Record<string, unknown>;
  cost: { fixedMonthlyUsd: number };
}

describe('offline plan (npm run plan)', () => {
  it.each(['--help', '-h'])('prints its help on stdout with %s', async (flag) => {
    const { stdout } = await plan(flag);
    expect(stdout).toMatch(/^usage: npm run plan/);
    expect(stdout).toContain('Exit codes: 0 ');
  });

  it('rejects an unknown flag with the usage line on stderr, exit 2', async () => {
    const failure = (await plan('--jsn').then(
      () => ({ code: 0, stdout: 'printed a plan', stderr: '' }),
      (error: unknown) => error,
    )) as { code: number; stdout: string; stderr: string };
    expect(failure.code).toBe(2);
    expect(failure.stdout).toBe('');
    expect(failure.stderr).toMatch(/^plan: .*--jsn.*\nusage: npm run plan/);
  });

  it('prints only JSON on stdout with --json: every resource with its inputs, the outputs and the cost', async () => {
    const { stdout } = await plan('--json');
    const doc = JSON.parse(stdout) as PlanJson;
    expect(doc.stack).toBe('prod');
    expect(doc.resources.length).toBeGreaterThan(50);
    for (const r of doc.resources) expect(r.inputs).toBeTypeOf('object');
    // Pulumi.prod.yaml's own values reach the program.
    const queue = doc.resources.find((r) => r.name === 'predictions-queue');
    expect(queue?.inputs['name']).toBe('prod-retainwise-predictions-queue');
    const endpoint = doc.resources.find((r) => r.name === 'network-sqs');
    expect(endpoint?.inputs['vpcId']).toBe('vpc-0a1b2c3d4e5f60718');
    expect(doc.outputs).toMatchObject({
      previewRoleArn: 'arn:aws:iam::123456789012:role/retainwise-cicd-preview-role',
      deployRoleArn: 'arn:aws:iam::123456789012:role/retainwise-cicd-ecs-deployment-role',
    });
    expect(doc.cost.fixedMonthlyUsd).toBeGreaterThan(0);
  });

  it('prints a table of the resources, the outputs and the fixed monthly cost with its assumptions', async () => {
    const { stdout } = await plan();
    expect(stdout).toMatch(/^Offline plan of stack "prod": \d+ resources/);
    expect(stdout).toMatch(/ = {3}│ {2}├─ aws:sqs:Queue\s+predictions-queue\s+name=prod-retainwise-/);
    expect(stdout).toMatch(
      /Estimated fixed monthly cost:[\s\S]*Interface VPC endpoints[\s\S]*\$\s+\d+\.\d\d {2}total/,
    );
    expect(stdout).toContain('us-east-1 on-demand list prices');
  });

  it('fits every line of the table for Pulumi.prod.yaml in 120 columns', async () => {
    const { stdout } = await plan();
    for (const line of stdout.split('\n')) expect(line.length, line).toBeLessThanOrEqual(120);
  });

  it("counts in the table's footer exactly what --json lists beyond the table's header", async () => {
    const [table, json] = await Promise.all([plan(), plan('--json')]);
    const { resources } = JSON.parse(json.stdout) as PlanJson;
    const custom = resources.filter((r) => r.custom).length;
    expect(table.stdout).toMatch(new RegExp(`^Offline plan of stack "prod": ${custom} resources `));
    expect(table.stdout).toContain(
      `--json lists ${resources.length} resources: the ${custom} counted above and the ${resources.length - custom} components`,
    );
  });

  it.each([
    ['the table', []],
    ['--json', ['--json']],
    ['--import-file', ['--import-file']],
  ])(
    'warns on stderr about the placeholders still in Pulumi.prod.yaml, naming each key (%s), and exits 0',
    async (_, args: string[]) => {
      const { stdout, stderr } = await plan(...args);
      expect(stderr.split('\n').filter(Boolean)).toEqual([
        expect.stringMatching(
          /^plan: warning: Pulumi\.prod\.yaml aws:allowedAccountIds holds the placeholder account 123456789012: put .*account id/,
        ),
        expect.stringMatching(
          /^plan: warning: Pulumi\.prod\.yaml retainwise:stateKmsKeyArn holds the placeholder account 123456789012: put .*KMS key/,
        ),
        expect.stringMatching(
          /^plan: warning: Pulumi\.prod\.yaml retainwise:databaseUrlSecretArn holds the placeholder account 123456789012: put .*secret/,
        ),
        expect.stringMatching(
          /^plan: warning: Pulumi\.prod\.yaml retainwise:alarmEmail holds the placeholder address ops@retainwise\.example: put .*address/,
        ),
      ]);
      if (args.length > 0) expect(() => JSON.parse(stdout) as unknown).not.toThrow();
    },
  );

  it('warns about no placeholder once the stack file holds real values', () => {
    expect(
      placeholderWarnings('Pulumi.prod.yaml', {
        'aws:allowedAccountIds': '["210987654321"]',
        'retainwise:alarmEmail': 'oncall@retainwise.com',
      }),
    ).toEqual([]);
  });

  it('reads stack files the way the engine passes config, and refuses secrets it cannot decrypt', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'plan-'));
    writeFileSync(path.join(dir, 'Pulumi.yaml'), 'name: demo\nruntime: nodejs\n');
    writeFileSync(
      path.join(dir, 'Pulumi.dev.yaml'),
      'config:\n  aws:allowedAccountIds: ["111122223333"]\n  demo:count: 3\n  demo:ids:\n    - a\n    - b\n',
    );
    expect(readStackFiles(dir, 'dev')).toEqual({
      project: 'demo',
      accountId: '111122223333',
      config: { 'aws:allowedAccountIds': '["111122223333"]', 'demo:count': '3', 'demo:ids': '["a","b"]' },
    });
    writeFileSync(path.join(dir, 'Pulumi.dev.yaml'), 'config:\n  demo:password:\n    secure: AAABAD==\n');
    expect(() => readStackFiles(dir, 'dev')).toThrow(/demo:password .* is a secret/);
  });
});

describe('adopting the existing resources (pulumi import --file)', () => {
  it('lists the existing queues, roles, cluster, service and log group by their import ids, parents first', async () => {
    const stack = await deployStack();
    const file = adoptionImportFile(stack.resources, { accountId: '123456789012', region: 'us-east-1' });
    const ids = Object.fromEntries(file.resources.filter((r) => r.id).map((r) => [r.logicalName, r.id]));
    expect(ids).toEqual({
      'predictions-queue':
        'https://sqs.us-east-1.amazonaws.com/123456789012/prod-retainwise-predictions-queue',
      'predictions-dlq': 'https://sqs.us-east-1.amazonaws.com/123456789012/prod-retainwise-predictions-dlq',
      'task-roles-worker': 'prod-retainwise-worker-task-role',
      'task-roles-backend': 'prod-retainwise-backend-task-role',
      'worker-execution': 'retainwise-ecs-task-execution-role',
      'worker-cluster': 'retainwise-cluster',
      'worker-service': 'retainwise-cluster/retainwise-worker',
      'worker-logs': '/ecs/retainwise-worker',
      'alarms-topic': 'arn:aws:sns:us-east-1:123456789012:retainwise-cloudwatch-alerts',
      'github-deploy': 'retainwise-cicd-ecs-deployment-role',
      'github-provider': 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com',
    });
    // Every parent is in the file (as an empty component) before the entries that name it.
    const seen = new Set<string>();
    for (const r of file.resources) {
      if (r.parent) expect(seen.has(r.parent), `${r.logicalName}'s parent comes first`).toBe(true);
      seen.add(r.name);
    }
    const queue = stack.one('aws:sqs/queue:Queue', 'predictions-queue');
    expect(file.resources.find((r) => r.logicalName === 'predictions-queue')).toMatchObject({
      name: queue.urn,
      parent: queue.parentUrn,
    });
  });
});

describe('monthly cost estimate', () => {
  it('prices VPC endpoints per endpoint and AZ: five interface endpoints in two AZs cost $73.00', async () => {
    const cost = estimateMonthlyCost((await deployStack({ egress: 'vpc-endpoints' })).resources);
    expect(cost.lines).toContainEqual(
      expect.objectContaining({ quantity: '5 endpoints × 2 AZ', monthlyUsd: 73 }),
    );
    expect(cost.lines.some((l) => l.item.startsWith('NAT'))).toBe(false);
  });

  it('prices a NAT gateway with its public IP, plus the SQS endpoint that stays in every mode', async () => {
    const cost = estimateMonthlyCost((await deployStack({ egress: 'nat-gateway' })).resources);
    expect(cost.lines).toContainEqual(expect.objectContaining({ item: 'NAT gateways', monthlyUsd: 32.85 }));
    expect(cost.lines).toContainEqual(
      expect.objectContaining({ item: 'Public IPv4 addresses (NAT)', monthlyUsd: 3.65 }),
    );
    expect(cost.lines).toContainEqual(
      expect.objectContaining({ item: 'Interface VPC endpoints (sqs)', monthlyUsd: 14.6 }),
    );
  });

  it('counts always-on tasks only: the worker scales to zero, a backend runs its desired count', async () => {
    const image = `123456789012.dkr.ecr.us-east-1.amazonaws.com/retainwise-backend@sha256:${'b'.repeat(64)}`;
    const cost = estimateMonthlyCost(
      (await deployStack({ backendImage: image, backendDesiredCount: '2' })).resources,
    );
    const worker = cost.lines.find((l) => l.item.startsWith('Fargate retainwise-worker'));
    const backend = cost.lines.find((l) => l.item.startsWith('Fargate retainwise-service'));
    expect(worker?.monthlyUsd).toBe(0);
    expect(backend?.monthlyUsd).toBeCloseTo(2 * fargateTaskHour(512, 1024, 'X86_64') * 730, 2);
  });

  it('prices the hourly queue keep-alive at list price: 730 calls a month, a fraction of a cent', async () => {
    const cost = estimateMonthlyCost((await deployStack()).resources);
    expect(cost.lines).toContainEqual({
      item: 'Queue keep-alive (rate(1 hour))',
      quantity: '730 Scheduler → Lambda calls × 0.5 s, 128 MB arm64: $0.0015',
      monthlyUsd: 0,
    });
    // Scheduler $1.00 and Lambda $0.20 per million, and 0.5 s × 0.125 GB at $0.0000133334 per GB-second (ARM).
    const usd = scheduledFunctionUsd(730, 0.5, { memoryMb: 128, architecture: 'arm64' });
    expect(usd).toBeCloseTo(730 * 1.2e-6 + 730 * 0.5 * 0.125 * 0.0000133334, 9);
  });

  it('has no keep-alive line when queueKeepAlive is false', async () => {
    const cost = estimateMonthlyCost((await deployStack({ queueKeepAlive: false })).resources);
    expect(cost.lines.some((l) => l.item.startsWith('Queue keep-alive'))).toBe(false);
  });

  it('uses Fargate list prices: ARM64 is cheaper than x86-64 for the same size', () => {
    expect(fargateTaskHour(1024, 2048, 'ARM64')).toBeCloseTo(0.03238 + 2 * 0.00356, 6);
    expect(fargateTaskHour(1024, 2048, 'X86_64')).toBeCloseTo(0.04048 + 2 * 0.004445, 6);
  });
});
