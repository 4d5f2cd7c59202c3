// The repository's GitHub Actions files (.github/), read once per test file: their text, the plain YAML and
// the templates GitHub's own workflow parser makes of them.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'node:module';
import type { WorkflowTemplate } from '@actions/workflow-parser';
import { parse as parseYaml } from 'yaml';
import { expect } from 'vitest';

// @actions/workflow-parser imports its JSON schemas without `with { type: 'json' }`, which Node's ES module
// loader rejects (actions/languageservices#387); this loader hook adds the attribute for .json modules.
register(
  `data:text/javascript,${encodeURIComponent(
    "export const load = (url, context, next) => next(url, url.endsWith('.json') ? { ...context, importAttributes: { type: 'json' } } : context);",
  )}`,
);
export const { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } =
  await import('@actions/workflow-parser');
export const { convertActionTemplate, parseAction } = await import('@actions/workflow-parser/actions/index');

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const githubDir = path.join(repoRoot, '.github');

export interface Step {
  name?: string;
  uses?: string;
  run?: string;
  shell?: string;
  with?: Record<string, string | number | boolean>;
  env?: Record<string, string>;
}
export interface Job {
  if?: string;
  uses?: string;
  needs?: string | string[];
  permissions?: Record<string, string> | string;
  environment?: string | { name: string };
  concurrency?: { group: string; 'cancel-in-progress': boolean | string };
  env?: Record<string, string>;
  steps?: Step[];
}
export interface Workflow {
  permissions?: Record<string, string> | string;
  jobs: Record<string, Job>;
}
export interface SourceFile {
  /** Relative to the repository root, e.g. `.github/workflows/ci.yml`. */
  file: string;
  text: string;
}
export interface GithubFiles {
  workflowSources: SourceFile[];
  actionSources: SourceFile[];
  /** By file name, e.g. `ci.yml`. */
  workflows: Map<string, Workflow>;
  /** By file name; only the workflows the parser accepted. */
  templates: Map<string, WorkflowTemplate>;
}

export const AWS_CREDENTIALS_ACTION = 'aws-actions/configure-aws-credentials';
export const PULUMI_ACTION = 'pulumi/actions';

export async function readGithubFiles(): Promise<GithubFiles> {
  const workflowNames = (await readdir(path.join(githubDir, 'workflows')))
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
  const workflowSources = await Promise.all(workflowNames.map((name) => source(`.github/workflows/${name}`)));
  const actionNames = await readdir(path.join(githubDir, 'actions'));
  const actionSources = await Promise.all(
    actionNames.map((name) => source(`.github/actions/${name}/action.yml`)),
  );
  const workflows = new Map<string, Workflow>();
  const templates = new Map<string, WorkflowTemplate>();
  for (const { file, text } of workflowSources) {
    const name = path.basename(file);
    workflows.set(name, parseYaml(text) as Workflow);
    const parsed = parseWorkflow({ name: file, content: text }, new NoOperationTraceWriter());
    if (parsed.value !== undefined)
      templates.set(name, await convertWorkflowTemplate(parsed.context, parsed.value));
  }
  return { workflowSources, actionSources, workflows, templates };
}

async function source(file: string): Promise<SourceFile> {
  return { file, text: await readFile(path.join(repoRoot, file), 'utf8') };
}

/** The job of a single-job workflow. */
export function onlyJob(workflow: Workflow): Job {
  const jobs = Object.values(workflow.jobs);
  expect(jobs).toHaveLength(1);
  return jobs[0]!;
}

export function stepUsing(job: Job, action: string): Step | undefined {
  return job.steps?.find((step) => step.uses?.split('@')[0] === action);
}
