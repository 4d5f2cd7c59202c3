// The stack's settings: every `retainwise:*` key parsed (config-schema.ts), each component's settings resolved by
// that component (its defaults live there, once), and every problem of the whole config reported in one error.
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { z } from 'zod';
import { resolveAlarmSettings, type ResolvedAlarmSettings } from './alarms.js';
import {
  resolveBackendSettings,
  validateBackendSettings,
  type ResolvedBackendSettings,
} from './backend-service.js';
import { CONFIG_KEYS, formats, schema, type RawConfig } from './config-schema.js';
import { resolveCiSettings, validateCiSettings, type GithubOidcArgs } from './github-oidc.js';
import { flowLogsRoleName } from './flow-logs.js';
import { networkSettings, validateNetworkSettings, type NetworkSettings } from './network-settings.js';
import {
  resolveOperatorSettings,
  validateOperatorSettings,
  type ResolvedOperatorSettings,
} from './operator.js';
import {
  resolveQueueSettings,
  validateQueueSettings,
  type ResolvedQueueSettings,
} from './prediction-queues.js';
import {
  resolveScalingSettings,
  validateScalingSettings,
  type ResolvedScalingSettings,
} from './scaling-settings.js';
import { resolveKeepAliveSettings, type ResolvedKeepAliveSettings } from './queue-keep-alive.js';
import { resolveTaskRoleSettings, type TaskRoleSettings } from './task-roles.js';
import { SettingsError, type Issue } from './validation.js';
import {
  resolveWorkerSettings,
  validateWorkerSettings,
  type ResolvedWorkerSettings,
} from './worker-settings.js';

/** The stack config, each part named and resolved by the component it configures. */
export interface StackConfig {
  project: string;
  stack: string;
  environment: string;
  region: string;
  /** The existing upload/result bucket. @default `retainwise-uploads-<account id>` (see loadConfig) */
  bucketName: string | undefined;
  network: NetworkSettings;
  queues: ResolvedQueueSettings;
  taskRoles: Required<TaskRoleSettings>;
  worker: ResolvedWorkerSettings;
  /** Present only when `backendImage` is configured. */
  backend: ResolvedBackendSettings | undefined;
  scaling: ResolvedScalingSettings;
  keepAlive: ResolvedKeepAliveSettings;
  alarms: ResolvedAlarmSettings;
  operator: ResolvedOperatorSettings;
  ci: Omit<GithubOidcArgs, 'uploadsBucketName' | 'accountId'>;
}

/** The stack config with what only the deployment knows: the account, and the bucket named after it. */
export interface InfraConfig extends Omit<StackConfig, 'bucketName'> {
  accountId: pulumi.Output<string>;
  bucketName: pulumi.Input<string>;
}

/** Reads and validates the running stack's config; throws one SettingsError naming every bad key. */
export function loadConfig(): InfraConfig {
  const config = parseConfig(pulumi.runtime.allConfig(), {
    project: pulumi.getProject(),
    stack: pulumi.getStack(),
  });
  const { accountId } = aws.getCallerIdentityOutput();
  return {
    ...config,
    accountId,
    bucketName: config.bucketName ?? pulumi.interpolate`retainwise-uploads-${accountId}`,
  };
}

/** Validates raw engine config (`project:key` → string) for a stack. Pure: the tests call it directly. */
export function parseConfig(
  all: Record<string, string>,
  ctx: { project: string; stack: string },
): StackConfig {
  const prefix = `${ctx.project}:`;
  const given = Object.fromEntries(
    Object.entries(all)
      .filter(([k]) => k.startsWith(prefix))
      .map(([k, v]) => [k.slice(prefix.length), v]),
  );
  const qualify = (key: string) => (key.includes(':') ? key : `${prefix}${key}`);
  const region = all['aws:region'] ?? '';
  const { raw, issues: fieldIssues } = parseFields(given);
  const config = resolve(raw, ctx, region);
  const crossIssues = [
    ...validateNetworkSettings(config.network),
    ...validateQueueSettings(config.queues),
    ...validateWorkerSettings(config.worker, config.queues),
    ...validateScalingSettings(config.scaling, config.worker.workerConcurrency),
    ...validateBackendSettings(resolveBackendSettings(raw, config.environment), raw),
    ...validateOperatorSettings(config.operator),
    ...validateCiSettings(config.ci, raw),
  ];
  // A key with a bad value is reported once, for its value; a check across keys is reported on one the user set.
  const badKeys = new Set(fieldIssues.map((i) => i.key));
  const issues = [
    ...(formats.region.test(region)
      ? []
      : [{ key: 'aws:region', message: 'must be set to the AWS region to deploy to, e.g. us-east-1' }]),
    ...fieldIssues,
    ...crossIssues
      .filter((i) => ![i.key, ...Object.keys(i.alternatives ?? {})].some((k) => badKeys.has(k)))
      .map((i) => onKeyTheUserSet(i, given)),
  ];
  if (issues.length > 0) {
    throw new SettingsError(
      `configuration of stack "${ctx.stack}"`,
      issues.map(({ key, message }) => ({ key: qualify(key), message })),
    );
  }
  return config;
}

/** Each key on its own, so one bad value hides neither the others nor the checks across keys. */
function parseFields(given: Record<string, string>): { raw: RawConfig; issues: Issue[] } {
  const shape = schema.shape as Record<string, z.ZodType>;
  const raw: Record<string, unknown> = {};
  const issues: Issue[] = [];
  for (const [key, value] of Object.entries(given)) {
    const field = shape[key];
    if (!field) {
      issues.push({
        key,
        message: `is not a setting of this stack (known keys: see infra/README.md)${suggestion(key)}`,
      });
      continue;
    }
    const result = field.safeParse(value);
    if (result.success) raw[key] = result.data;
    else issues.push({ key, message: result.error.issues[0]?.message ?? 'is invalid' });
  }
  for (const key of CONFIG_KEYS) {
    if (given[key] === undefined && !shape[key]?.safeParse(undefined).success) {
      issues.push({ key, message: 'is required' });
    }
  }
  return { raw: raw as RawConfig, issues };
}

/** A check across keys goes to a key the user set, in that key's own words. */
function onKeyTheUserSet(issue: Issue, given: Record<string, string>): Issue {
  const { alternatives = {}, ...rest } = issue;
  if (given[issue.key] !== undefined) return rest;
  const set = Object.keys(alternatives).find((k) => given[k] !== undefined);
  return set ? { key: set, message: alternatives[set] ?? issue.message } : rest;
}

function suggestion(key: string): string {
  const lower = key.toLowerCase();
  const close = CONFIG_KEYS.find(
    (k) => k.toLowerCase() === lower || editDistance(k.toLowerCase(), lower) <= 2,
  );
  return close ? `; did you mean "${close}"?` : '';
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function resolve(raw: RawConfig, ctx: { project: string; stack: string }, region: string): StackConfig {
  const environment = raw.environment ?? ctx.stack;
  const taskRoles = resolveTaskRoleSettings(raw, environment);
  const worker = resolveWorkerSettings(raw, environment);
  const backend = resolveBackendSettings(raw, environment);
  const operator = resolveOperatorSettings(raw, environment);
  const keepAlive = resolveKeepAliveSettings(raw, environment);
  return {
    project: ctx.project,
    stack: ctx.stack,
    environment,
    region,
    bucketName: raw.bucketName,
    network: networkSettings(raw),
    queues: resolveQueueSettings(raw, environment),
    taskRoles,
    worker,
    backend: backend.backendImage ? backend : undefined,
    scaling: resolveScalingSettings(raw),
    keepAlive,
    alarms: resolveAlarmSettings(raw, environment),
    operator,
    ci: {
      ...resolveCiSettings(raw, environment),
      ecsTaskRoleNames: [
        taskRoles.workerTaskRoleName,
        taskRoles.backendTaskRoleName,
        worker.executionRoleName,
        // Even before the backend runs: enabling it is then a routine deploy, not an administrator's run.
        backend.backendExecutionRoleName,
      ],
      flowLogsRoleName: flowLogsRoleName(environment),
      operatorRoleName: operator.operatorRoleName,
      // Even while the keep-alive is off, as for the backend's execution role above.
      keepAliveFunctionRoleName: keepAlive.functionRoleName,
      keepAliveSchedulerRoleName: keepAlive.schedulerRoleName,
    },
  };
}
