// The local action that prepares every Pulumi job (.github/actions/prepare-pulumi): it refuses a state
// backend or secrets provider that does not fit the stack file, and sets up image builds only where one is made.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { readGithubFiles, stepUsing, type Job, type Step } from './support/github.js';

const { actionSources, workflows } = await readGithubFiles();

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
