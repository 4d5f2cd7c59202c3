// The GitHub Actions delivery (.github/): every workflow and local action is validated by GitHub's own
// parser, then held to the rules that keep the AWS account safe: least permissions per job, OIDC instead of
// stored keys, actions pinned to commit SHAs, previews that never give fork code credentials, and one
// production deployment at a time.
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { register } from 'node:module';
import type { WorkflowTemplate } from '@actions/workflow-parser';
import { parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';

// @actions/workflow-parser imports its JSON schemas without `with { type: 'json' }`, which Node's ES module
// loader rejects (actions/languageservices#387); this loader hook adds the attribute for .json modules.
register(
  `data:text/javascript,${encodeURIComponent(
    "export const load = (url, context, next) => next(url, url.endsWith('.json') ? { ...context, importAttributes: { type: 'json' } } : context);",
  )}`,
);
const { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } =
  await import('@actions/workflow-parser');
const { convertActionTemplate, parseAction } = await import('@actions/workflow-parser/actions/index');

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const githubDir = path.join(repoRoot, '.github');

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  shell?: string;
  with?: Record<string, string | number | boolean>;
  env?: Record<string, string>;
}
interface Job {
  if?: string;
  uses?: string;
  needs?: string | string[];
  permissions?: Record<string, string> | string;
  environment?: string | { name: string };
  concurrency?: { group: string; 'cancel-in-progress': boolean | string };
  env?: Record<string, string>;
  steps?: Step[];
}
interface Workflow {
  permissions?: Record<string, string> | string;
  jobs: Record<string, Job>;
}
interface SourceFile {
  /** Relative to the repository root, e.g. `.github/workflows/ci.yml`. */
  file: string;
  text: string;
}

const AWS_CREDENTIALS_ACTION = 'aws-actions/configure-aws-credentials';
const PULUMI_ACTION = 'pulumi/actions';

let workflowSources: SourceFile[];
let actionSources: SourceFile[];
const workflows = new Map<string, Workflow>();
const templates = new Map<string, WorkflowTemplate>();

beforeAll(async () => {
  const workflowNames = (await readdir(path.join(githubDir, 'workflows')))
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
  workflowSources = await Promise.all(workflowNames.map((name) => source(`.github/workflows/${name}`)));
  const actionNames = await readdir(path.join(githubDir, 'actions'));
  actionSources = await Promise.all(actionNames.map((name) => source(`.github/actions/${name}/action.yml`)));
  for (const { file, text } of workflowSources) {
    const name = path.basename(file);
    workflows.set(name, parseYaml(text) as Workflow);
    const parsed = parseWorkflow({ name: file, content: text }, new NoOperationTraceWriter());
    if (parsed.value !== undefined)
      templates.set(name, await convertWorkflowTemplate(parsed.context, parsed.value));
  }
});

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
    const job = onlyJob('ci.yml');
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

describe('every workflow', () => {
  it('declares top-level permissions, and write access only where a job needs it', () => {
    const allowedWrites: Record<string, string[]> = {
      'preview.yml/preview': ['id-token', 'pull-requests'],
      'deploy.yml/deploy': ['id-token'],
    };
    for (const [name, workflow] of workflows) {
      expect(workflow.permissions, `${name}: top-level permissions`).toBeDefined();
      expect(workflow.permissions, name).not.toBe('write-all');
      for (const [id, job] of Object.entries(workflow.jobs)) {
        const scopes = typeof job.permissions === 'object' ? job.permissions : {};
        const writes = Object.entries(scopes).flatMap(([scope, level]) => (level === 'write' ? [scope] : []));
        expect(writes.sort(), `${name}/${id}`).toEqual((allowedWrites[`${name}/${id}`] ?? []).sort());
        expect(job.permissions, `${name}/${id}`).not.toBe('write-all');
      }
    }
  });

  it('gives id-token: write exactly to the jobs that assume an AWS role', () => {
    for (const [name, workflow] of workflows) {
      for (const [id, job] of Object.entries(workflow.jobs)) {
        const assumesRole = stepUsing(job, AWS_CREDENTIALS_ACTION) !== undefined;
        const canMintToken = typeof job.permissions === 'object' && job.permissions['id-token'] === 'write';
        expect(canMintToken, `${name}/${id}`).toBe(assumesRole);
        if (assumesRole) {
          expect(stepUsing(job, AWS_CREDENTIALS_ACTION)?.with?.['role-to-assume'], `${name}/${id}`).toMatch(
            /^\$\{\{ vars\.AWS_\w+_ROLE_ARN \}\}$/,
          );
        }
      }
    }
  });

  it('takes the Pulumi state backend from repository settings, never from the files', () => {
    for (const [name, workflow] of workflows) {
      for (const [id, job] of Object.entries(workflow.jobs)) {
        const pulumi = stepUsing(job, PULUMI_ACTION);
        if (pulumi === undefined) continue;
        expect(job.env?.PULUMI_ACCESS_TOKEN, `${name}/${id}`).toBe('${{ secrets.PULUMI_ACCESS_TOKEN }}');
        expect(job.env?.PULUMI_BACKEND_URL, `${name}/${id}`).toBe('${{ vars.PULUMI_BACKEND_URL }}');
        expect(pulumi.with?.['cloud-url'], `${name}/${id}`).toBe('${{ vars.PULUMI_BACKEND_URL }}');
        expect(pulumi.with?.['secrets-provider'], `${name}/${id}`).toBe(
          '${{ vars.PULUMI_SECRETS_PROVIDER }}',
        );
      }
    }
  });
});

describe('the Pulumi preparation action', () => {
  const action = () =>
    parseYaml(actionSources.find((s) => s.file.includes('prepare-pulumi'))!.text) as {
      inputs: Record<string, { default?: string }>;
      runs: { steps: (Step & { if?: string })[] };
    };
  /** The prod stack file as `pulumi stack init --secrets-provider awskms://…` leaves it. */
  const BOOTSTRAPPED = [
    'secretsprovider: awskms:///arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-000000000000?region=us-east-1',
    'encryptedkey: AQICAHhbHf3W0xX8',
    'config:',
    '  aws:region: us-east-1',
  ].join('\n');
  const NOT_BOOTSTRAPPED = 'config:\n  aws:region: us-east-1\n';
  const S3 = 's3://state?region=us-east-1';
  const KEY =
    'awskms:///arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-000000000000?region=us-east-1';
  const cases = [
    { env: {}, file: NOT_BOOTSTRAPPED, fails: /No Pulumi state backend is configured/ },
    {
      env: { PULUMI_ACCESS_TOKEN: 'pul-x', PULUMI_BACKEND_URL: 's3://b' },
      file: BOOTSTRAPPED,
      fails: /Both .* are set/,
    },
    // Pulumi Cloud keeps the stack's secrets key itself.
    { env: { PULUMI_ACCESS_TOKEN: 'pul-x' }, file: NOT_BOOTSTRAPPED, fails: null },
    { env: { PULUMI_BACKEND_URL: S3, PULUMI_SECRETS_PROVIDER: KEY }, file: BOOTSTRAPPED, fails: null },
    // A self-managed backend needs the KMS-encrypted data key that `pulumi stack init` writes into the stack file.
    {
      env: { PULUMI_BACKEND_URL: S3, PULUMI_SECRETS_PROVIDER: KEY },
      file: NOT_BOOTSTRAPPED,
      fails: /Pulumi\.prod\.yaml has no secretsprovider.*pulumi stack init prod --secrets-provider/s,
    },
    {
      env: { PULUMI_BACKEND_URL: S3 },
      file: BOOTSTRAPPED,
      fails: /PULUMI_SECRETS_PROVIDER variable is not set/,
    },
    {
      env: { PULUMI_BACKEND_URL: S3, PULUMI_SECRETS_PROVIDER: 'awskms://alias/other?region=us-east-1' },
      file: BOOTSTRAPPED,
      fails: /does not match/,
    },
  ];
  it.each(cases)(
    'checks the state backend and secrets settings first: $env',
    async ({ env, file, fails }) => {
      const check = action().runs.steps[0]!;
      const dir = await mkdtemp(path.join(tmpdir(), 'retainwise-stack-'));
      try {
        await writeFile(path.join(dir, 'Pulumi.prod.yaml'), file);
        const run = promisify(execFile)('bash', ['-e', '-c', check.run!], {
          cwd: dir,
          env: { PATH: process.env.PATH, STACK: 'prod', ...env },
        });
        if (fails === null) await expect(run).resolves.toBeDefined();
        else await expect(run).rejects.toMatchObject({ stdout: expect.stringMatching(fails) as unknown });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );

  it('sets up Buildx and arm64 emulation only for a job that builds the image: previews build nothing', () => {
    const steps = action().runs.steps;
    for (const name of ['docker/setup-qemu-action', 'docker/setup-buildx-action']) {
      expect(steps.find((s) => s.uses?.startsWith(name))?.if, name).toBe("inputs.build-image == 'true'");
    }
    expect(action().inputs['build-image']?.default).toBe('false');
    const prepare = (job: Job) => stepUsing(job, './.github/actions/prepare-pulumi')?.with?.['build-image'];
    expect(prepare(workflows.get('preview.yml')!.jobs.preview!)).toBeUndefined();
    expect(prepare(workflows.get('deploy.yml')!.jobs.deploy!)).toBe('true');
  });
});

describe('everything under .github/', () => {
  it('pins every third-party action to a full commit SHA with its release as a comment', () => {
    const pins = new Map<string, string>();
    for (const { file, text } of [...workflowSources, ...actionSources]) {
      for (const line of text.split('\n').filter((l) => /^\s*(-\s+)?uses:/.test(l))) {
        const ref = /uses:\s*(\S+)/.exec(line)?.[1] ?? '';
        if (ref.startsWith('./')) continue; // this repository's own actions and workflows
        const pinned = /^([\w.-]+\/[\w./-]+)@([0-9a-f]{40})\s+#\s+(v\d+\.\d+\.\d+)\s*$/.exec(
          line.slice(line.indexOf(ref)),
        );
        expect(pinned, `${file}: ${line.trim()}`).not.toBeNull();
        const [, action = '', sha = '', version = ''] = pinned ?? [];
        // One release per action across all files, so an update cannot be half-applied.
        const seen = pins.get(action);
        expect(seen ?? `${sha} ${version}`, `${file}: ${action}`).toBe(`${sha} ${version}`);
        pins.set(action, `${sha} ${version}`);
      }
    }
    expect(pins.size).toBeGreaterThanOrEqual(6);
  });

  it('holds no long-lived AWS access keys', () => {
    for (const { file, text } of [...workflowSources, ...actionSources]) {
      expect(text, file).not.toMatch(
        /aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID/i,
      );
    }
  });
});

async function source(file: string): Promise<SourceFile> {
  return { file, text: await readFile(path.join(repoRoot, file), 'utf8') };
}

function onlyJob(workflow: string): Job {
  const jobs = Object.values(workflows.get(workflow)!.jobs);
  expect(jobs).toHaveLength(1);
  return jobs[0]!;
}

function stepUsing(job: Job, action: string): Step | undefined {
  return job.steps?.find((step) => step.uses?.split('@')[0] === action);
}
