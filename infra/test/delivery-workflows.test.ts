// The GitHub Actions delivery (.github/): GitHub's own parser accepts every workflow and local action, and the
// CI, preview and deploy workflows run on the right events, with the right roles, in the right order.
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  AWS_CREDENTIALS_ACTION,
  convertActionTemplate,
  convertWorkflowTemplate,
  NoOperationTraceWriter,
  onlyJob,
  parseAction,
  parseWorkflow,
  PULUMI_ACTION,
  readGithubFiles,
  repoRoot,
  stepUsing,
  type Step,
} from './support/github.js';

const { workflowSources, actionSources, workflows, templates } = await readGithubFiles();

describe("GitHub's workflow parser", () => {
  it('finds the CI, preview and deploy workflows', () => {
    expect([...workflows.keys()]).toEqual(expect.arrayContaining(['ci.yml', 'deploy.yml', 'preview.yml']));
  });

  it('accepts every workflow without an error', async () => {
    for (const { file, text } of workflowSources) {
      const parsed = parseWorkflow({ name: file, content: text }, new NoOperationTraceWriter());
      expect(parsed.context.errors.getErrors().map(String), file).toEqual([]);
      expect(parsed.value, file).toBeDefined();
      const template = await convertWorkflowTemplate(parsed.context, parsed.value!);
      expect(template.errors ?? [], file).toEqual([]);
    }
  });

  it('accepts every local composite action without an error', () => {
    expect(actionSources.length).toBeGreaterThan(0);
    for (const { file, text } of actionSources) {
      const parsed = parseAction({ name: file, content: text }, new NoOperationTraceWriter());
      expect(parsed.context.errors.getErrors().map(String), file).toEqual([]);
      const action = convertActionTemplate(parsed.context, parsed.value!);
      expect(parsed.context.errors.getErrors().map(String), file).toEqual([]);
      expect(action?.runs.using, file).toBe('composite');
    }
  });
});

describe('ci.yml', () => {
  it('runs on every push and pull request, and can be called by the deployment', () => {
    expect(Object.keys(templates.get('ci.yml')!.events).sort()).toEqual([
      'pull_request',
      'push',
      'workflow_call',
    ]);
    const events = templates.get('ci.yml')!.events;
    expect(events.push).toEqual({});
    expect(events.pull_request).toEqual({});
  });

  it('only reads the repository', () => {
    expect(workflows.get('ci.yml')!.permissions).toEqual({ contents: 'read' });
  });

  it('installs from the lockfile without onnxruntime downloads, then lints, typechecks and tests', () => {
    const job = onlyJob(workflows.get('ci.yml')!);
    expect(job.env?.ONNXRUNTIME_NODE_INSTALL).toBe('skip');
    const runs = (job.steps ?? []).flatMap((s) => (s.run ? [s.run] : []));
    const order = ['npm ci', 'npm run lint', 'npm run typecheck', 'npm test'].map((cmd) =>
      runs.findIndex((run) => run.startsWith(cmd)),
    );
    expect(order.every((index) => index >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(stepUsing(job, 'actions/setup-node')?.with?.cache).toBe('npm');
  });

  it('tests on the oldest supported Node.js line and on the worker image release', async () => {
    const dockerfile = await readFile(path.join(repoRoot, 'worker', 'Dockerfile'), 'utf8');
    const imageNode = /node:(\d+\.\d+\.\d+)-/.exec(dockerfile)?.[1];
    const matrix = (
      parseYaml(workflowSources.find((s) => s.file.endsWith('ci.yml'))!.text) as {
        jobs: Record<string, { strategy: { matrix: { node: string[] } } }>;
      }
    ).jobs;
    const nodes = Object.values(matrix)[0]!.strategy.matrix.node;
    expect(nodes).toContain(imageNode);
    expect(nodes.some((version) => version.startsWith('20.'))).toBe(true);
  });
});

describe('preview.yml', () => {
  it('runs on pull requests only, never on pull_request_target (which would hand fork code our secrets)', () => {
    expect(Object.keys(templates.get('preview.yml')!.events)).toEqual(['pull_request']);
  });

  it('previews the prod stack with the preview role and comments the result on the pull request', () => {
    const job = workflows.get('preview.yml')!.jobs.preview!;
    expect(stepUsing(job, AWS_CREDENTIALS_ACTION)?.with?.['role-to-assume']).toBe(
      '${{ vars.AWS_PREVIEW_ROLE_ARN }}',
    );
    const pulumi = stepUsing(job, PULUMI_ACTION)?.with;
    expect(pulumi).toMatchObject({ command: 'preview', 'stack-name': 'prod', 'comment-on-pr': true });
    expect(job.permissions).toEqual({ contents: 'read', 'id-token': 'write', 'pull-requests': 'write' });
  });

  it('gives pull requests from forks no credentials and leaves them a note instead', () => {
    const { jobs } = workflows.get('preview.yml')!;
    const sameRepository = 'github.event.pull_request.head.repo.full_name == github.repository';
    expect(jobs.preview?.if).toContain(sameRepository);
    const notice = jobs['fork-notice']!;
    expect(notice.if).toContain(sameRepository.replace('==', '!='));
    expect(notice.permissions).toEqual({});
    expect(notice.steps?.map((s) => s.run ?? '').join('\n')).toContain('>> "$GITHUB_STEP_SUMMARY"');
    expect(notice.steps?.some((s) => s.uses !== undefined)).toBe(false);
  });
});

describe('deploy.yml', () => {
  it('runs on pushes to main and on demand', () => {
    const { events } = templates.get('deploy.yml')!;
    expect(Object.keys(events).sort()).toEqual(['push', 'workflow_dispatch']);
    expect(events.push?.branches).toEqual(['main']);
  });

  it('deploys only from main, after CI passed, in the prod environment, one run at a time', () => {
    const { jobs } = workflows.get('deploy.yml')!;
    expect(jobs.ci?.uses).toBe('./.github/workflows/ci.yml');
    const deploy = jobs.deploy!;
    expect(deploy.needs).toBe('ci');
    expect(deploy.if).toBe("github.ref == 'refs/heads/main'");
    expect(deploy.environment).toBe('prod');
    expect(deploy.concurrency).toEqual({ group: 'deploy-prod', 'cancel-in-progress': false });
    expect(deploy.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
  });

  it('runs pulumi up on prod with the deploy role, Docker Buildx and arm64 emulation for the image build', async () => {
    const deploy = workflows.get('deploy.yml')!.jobs.deploy!;
    expect(stepUsing(deploy, AWS_CREDENTIALS_ACTION)?.with?.['role-to-assume']).toBe(
      '${{ vars.AWS_DEPLOY_ROLE_ARN }}',
    );
    expect(stepUsing(deploy, PULUMI_ACTION)?.with).toMatchObject({ command: 'up', 'stack-name': 'prod' });
    const prepare = deploy.steps?.find((s) => s.uses?.startsWith('./.github/actions/'))?.uses ?? '';
    const action = parseYaml(await readFile(path.join(repoRoot, prepare, 'action.yml'), 'utf8')) as {
      runs: { steps: Step[] };
    };
    const uses = action.runs.steps.map((s) => s.uses?.split('@')[0]);
    expect(uses).toEqual(expect.arrayContaining(['docker/setup-buildx-action', 'docker/setup-qemu-action']));
    expect(
      action.runs.steps.find((s) => s.uses?.startsWith('docker/setup-qemu-action'))?.with?.platforms,
    ).toBe('arm64');
    // The credentials come after the preparation steps, so third-party setup code never sees them.
    const order = deploy.steps!.map((s) => s.uses?.split('@')[0]);
    expect(order.indexOf('./.github/actions/prepare-pulumi')).toBeLessThan(
      order.indexOf(AWS_CREDENTIALS_ACTION),
    );
  });

  it('writes the stack outputs to the job summary as a table, secrets masked', async () => {
    const step = workflows.get('deploy.yml')!.jobs.deploy!.steps!.at(-1)!;
    expect(step.shell).toBe('bash');
    const dir = await mkdtemp(path.join(tmpdir(), 'retainwise-summary-'));
    try {
      // A stand-in for the Pulumi CLI, printing what `pulumi stack output --json` prints.
      const fakePulumi = path.join(dir, 'pulumi');
      const outputs = {
        queueUrl: 'https://sqs.example/q',
        dbSecret: '[secret]',
        subnets: ['a', 'b'],
        odd: 'x|y\nz',
      };
      await writeFile(fakePulumi, `#!/bin/sh\ncat <<'JSON'\n${JSON.stringify(outputs)}\nJSON\n`);
      await chmod(fakePulumi, 0o755);
      const summary = path.join(dir, 'summary.md');
      await promisify(execFile)('bash', ['-eo', 'pipefail', '-c', step.run!], {
        env: { PATH: `${dir}:${process.env.PATH ?? ''}`, GITHUB_STEP_SUMMARY: summary },
      });
      expect((await readFile(summary, 'utf8')).trim().split('\n')).toEqual([
        '### Stack `prod` outputs',
        '',
        '| Output | Value |',
        '| --- | --- |',
        '| `queueUrl` | `https://sqs.example/q` |',
        '| `dbSecret` | `[secret]` |',
        '| `subnets` | `["a","b"]` |',
        '| `odd` | `x\\|y z` |',
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
