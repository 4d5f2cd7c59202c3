// The rules every GitHub Actions file (.github/) keeps the AWS account safe by: least permissions per job, OIDC
// instead of stored keys, the state backend from repository settings, actions pinned to commit SHAs.
import { describe, expect, it } from 'vitest';
import { AWS_CREDENTIALS_ACTION, PULUMI_ACTION, readGithubFiles, stepUsing } from './support/github.js';

const { workflowSources, actionSources, workflows } = await readGithubFiles();

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
