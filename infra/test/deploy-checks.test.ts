// What a deploy proves. With the service scaled to zero, ECS's steady-state wait and the deployment circuit breaker
// see no task at all, and a circuit-breaker rollback also ends in a steady state that the provider reports as a
// success; so after `pulumi up` the deploy workflow runs .github/scripts/verify-deploy.sh, which checks that the
// service really runs the task definition Pulumi registered and starts that task definition once as a smoke task
// (`--self-check`). The script is run here against a stand-in `aws` CLI answering in the shapes the ECS API
// documents (DescribeServices, RunTask, DescribeTasks).
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { deployStack, PROJECT_DIR, type Stack } from './support/program.js';

const SERVICE = 'aws:ecs/service:Service';
const SCRIPT = path.join(PROJECT_DIR, '.github/scripts/verify-deploy.sh');
const minutes = (timeout: string | undefined) => Number(/^(\d+)m$/.exec(timeout ?? '')?.[1] ?? NaN);

describe('the worker service update', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await deployStack();
  });

  it('waits long enough for a protected job to finish and its task to drain, not the provider default 20 min', () => {
    const { update, create } = stack.one(SERVICE, 'worker-service').customTimeouts;
    // JOB_TIMEOUT_SECONDS (3600) of scale-in protection, then the 120 s stopTimeout, then the new task's start.
    expect(minutes(update)).toBeGreaterThanOrEqual(Math.ceil((3600 + 120) / 60) + 5);
    expect(minutes(create)).toBeGreaterThanOrEqual(20);
  });

  it('follows a longer job timeout', async () => {
    const long = await deployStack({ jobTimeoutSeconds: 7200 });
    expect(minutes(long.one(SERVICE, 'worker-service').customTimeouts.update)).toBeGreaterThanOrEqual(
      Math.ceil((7200 + 120) / 60) + 5,
    );
  });

  it('fits in the deploy job, with room for the image build', () => {
    const deploy = parse(readFileSync(path.join(PROJECT_DIR, '.github/workflows/deploy.yml'), 'utf8')) as {
      jobs: { deploy: { 'timeout-minutes': number; steps: { run?: string; uses?: string }[] } };
    };
    const update = minutes(stack.one(SERVICE, 'worker-service').customTimeouts.update);
    expect(deploy.jobs.deploy['timeout-minutes']).toBeGreaterThanOrEqual(update + 20);
  });

  it('is followed in the deploy job by the verification, after pulumi up', () => {
    const deploy = parse(readFileSync(path.join(PROJECT_DIR, '.github/workflows/deploy.yml'), 'utf8')) as {
      jobs: { deploy: { steps: { run?: string; uses?: string }[] } };
    };
    const steps = deploy.jobs.deploy.steps;
    const up = steps.findIndex((s) => s.uses?.startsWith('pulumi/actions@'));
    const verify = steps.findIndex((s) => s.run?.includes('.github/scripts/verify-deploy.sh'));
    expect(up).toBeGreaterThanOrEqual(0);
    expect(verify).toBeGreaterThan(up);
  });

  it('exports what the verification needs', () => {
    for (const key of [
      'clusterName',
      'workerServiceName',
      'workerTaskDefinitionArn',
      'privateSubnetIds',
      'workerSecurityGroupIds',
    ]) {
      expect(stack.outputs[key], key).toBeDefined();
    }
  });
});

const TASK_DEFINITION = 'arn:aws:ecs:us-east-1:123456789012:task-definition/retainwise-worker:8';
const PREVIOUS = 'arn:aws:ecs:us-east-1:123456789012:task-definition/retainwise-worker:7';
const SMOKE_TASK = 'arn:aws:ecs:us-east-1:123456789012:task/retainwise-cluster/0123456789abcdef';

interface Cloud {
  deployments: {
    status: string;
    taskDefinition: string;
    rolloutState: string;
    rolloutStateReason?: string;
  }[];
  stoppedTask: Record<string, unknown>;
}

const healthy: Cloud = {
  deployments: [{ status: 'PRIMARY', taskDefinition: TASK_DEFINITION, rolloutState: 'COMPLETED' }],
  stoppedTask: {
    taskArn: SMOKE_TASK,
    lastStatus: 'STOPPED',
    stopCode: 'EssentialContainerExited',
    stoppedReason: 'Essential container in task exited',
    containers: [{ name: 'worker', exitCode: 0, lastStatus: 'STOPPED' }],
  },
};

/** Runs the script with a stand-in `aws` that answers from `cloud` and records its calls. */
async function verify(cloud: Cloud): Promise<{ code: number; output: string; calls: string[][] }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'verify-deploy-'));
  writeFileSync(path.join(dir, 'cloud.json'), JSON.stringify(cloud));
  writeFileSync(
    path.join(dir, 'outputs.json'),
    JSON.stringify({
      clusterName: 'retainwise-cluster',
      workerServiceName: 'retainwise-worker',
      workerTaskDefinitionArn: TASK_DEFINITION,
      privateSubnetIds: ['subnet-0a1b2c3d4e5f60719', 'subnet-0a1b2c3d4e5f6071a'],
      workerSecurityGroupIds: ['sg-0123456789abcdef0'],
    }),
  );
  const fake = path.join(dir, 'aws');
  writeFileSync(
    fake,
    `#!/usr/bin/env node
const fs = require('node:fs');
const args = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(path.join(dir, 'calls.jsonl'))}, JSON.stringify(args) + '\\n');
const cloud = JSON.parse(fs.readFileSync(${JSON.stringify(path.join(dir, 'cloud.json'))}, 'utf8'));
const op = args.slice(0, 2).join(' ');
const out = (v) => process.stdout.write(JSON.stringify(v));
if (op === 'ecs describe-services') out({ services: [{ deployments: cloud.deployments }], failures: [] });
else if (op === 'ecs run-task') out({ tasks: [{ taskArn: ${JSON.stringify(SMOKE_TASK)}, lastStatus: 'PROVISIONING' }], failures: [] });
else if (op === 'ecs wait') process.exit(0);
else if (op === 'ecs describe-tasks') out({ tasks: [cloud.stoppedTask], failures: [] });
else { process.stderr.write('unexpected aws call: ' + args.join(' ')); process.exit(2); }
`,
  );
  chmodSync(fake, 0o755);
  let code = 0;
  let output: string;
  try {
    const result = await promisify(execFile)('bash', [SCRIPT, path.join(dir, 'outputs.json')], {
      env: { PATH: `${dir}:${process.env.PATH ?? ''}` },
    });
    output = result.stdout + result.stderr;
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    code = e.code;
    output = e.stdout + e.stderr;
  }
  const calls = readFileSync(path.join(dir, 'calls.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as string[]);
  return { code, output, calls };
}

describe('verify-deploy.sh', () => {
  it('passes when the service runs the new task definition and a smoke task of it exits 0', async () => {
    const { code, output, calls } = await verify(healthy);
    expect({ code, output }).toMatchObject({ code: 0 });
    const run = calls.find((c) => c[1] === 'run-task') ?? [];
    const arg = (name: string) => run[run.indexOf(name) + 1] ?? '';
    expect(arg('--task-definition')).toBe(TASK_DEFINITION);
    expect(arg('--launch-type')).toBe('FARGATE');
    expect(JSON.parse(arg('--network-configuration'))).toEqual({
      awsvpcConfiguration: {
        subnets: ['subnet-0a1b2c3d4e5f60719', 'subnet-0a1b2c3d4e5f6071a'],
        securityGroups: ['sg-0123456789abcdef0'],
        assignPublicIp: 'DISABLED',
      },
    });
    expect(JSON.parse(arg('--overrides'))).toEqual({
      containerOverrides: [{ name: 'worker', command: ['node', 'dist/src/main.js', '--self-check'] }],
    });
  });

  it('fails when the circuit breaker rolled the service back to the previous task definition', async () => {
    const { code, output } = await verify({
      ...healthy,
      deployments: [{ status: 'PRIMARY', taskDefinition: PREVIOUS, rolloutState: 'COMPLETED' }],
    });
    expect(code).toBe(1);
    expect(output).toContain(PREVIOUS);
    expect(output).toMatch(/rolled back|not the registered/i);
  });

  it('fails when the rollout failed', async () => {
    const { code, output } = await verify({
      ...healthy,
      deployments: [
        {
          status: 'PRIMARY',
          taskDefinition: TASK_DEFINITION,
          rolloutState: 'FAILED',
          rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.',
        },
      ],
    });
    expect(code).toBe(1);
    expect(output).toContain('tasks failed to start');
  });

  it('fails with the check output when the smoke task exits non-zero', async () => {
    const { code, output } = await verify({
      ...healthy,
      stoppedTask: { ...healthy.stoppedTask, containers: [{ name: 'worker', exitCode: 1 }] },
    });
    expect(code).toBe(1);
    expect(output).toMatch(/exit code 1/);
  });

  it("fails with ECS's reason when the smoke task never started", async () => {
    const { code, output } = await verify({
      ...healthy,
      stoppedTask: {
        taskArn: SMOKE_TASK,
        lastStatus: 'STOPPED',
        stopCode: 'TaskFailedToStart',
        stoppedReason: 'CannotPullContainerError: pull image manifest has been retried 5 time(s)',
        containers: [{ name: 'worker', lastStatus: 'STOPPED' }],
      },
    });
    expect(code).toBe(1);
    expect(output).toContain('CannotPullContainerError');
  });
});
