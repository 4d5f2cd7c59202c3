// Runs the real program (or one component) under Pulumi's mocks and answers questions about what it registered.
import path from 'node:path';
import { runOffline, runProject, type InvokeAnswer, type RecordedResource } from '../../plan/offline.js';
import type { OfflineVpc } from '../../plan/offline-vpc.js';
import type { PolicyDocument } from '../../policy.js';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
export const DATABASE_SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:prod/retainwise/database-url-AbCdEf`;
export const REPOSITORY = 'retainwise/retainwise-analytics';
/** The Pulumi project: the repository root, where Pulumi.yaml lives. */
export const PROJECT_DIR = path.resolve(import.meta.dirname, '../../..');

/** The least config a stack needs: everything else has a default. */
export const MINIMAL_CONFIG = {
  githubRepository: REPOSITORY,
  databaseUrlSecretArn: DATABASE_SECRET_ARN,
};

export type ConfigValue = string | number | boolean | string[] | Record<string, string> | undefined;

/** Engine-style config (`project:key` → string); keys without a namespace belong to `retainwise`. */
export function engineConfig(settings: Record<string, ConfigValue>): Record<string, string> {
  const config: Record<string, string> = { 'aws:region': REGION };
  for (const [key, value] of Object.entries(settings)) {
    const qualified = key.includes(':') ? key : `retainwise:${key}`;
    if (value === undefined) delete config[qualified];
    else config[qualified] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return config;
}

export class Stack {
  constructor(
    readonly resources: RecordedResource[],
    readonly outputs: Record<string, unknown>,
    /** The working directory the engine ran the program (and would run its providers) in. */
    readonly pwd: string = process.cwd(),
  ) {}

  all(type: string): RecordedResource[] {
    return this.resources.filter((r) => r.type === type);
  }

  /** The one resource of `type` (named `name`, if given); fails loudly when absent or ambiguous. */
  one(type: string, name?: string): RecordedResource {
    const found = this.all(type).filter((r) => name === undefined || r.name === name);
    if (found.length !== 1) {
      throw new Error(
        `expected one ${type}${name ? ` named ${name}` : ''}, found ${found.map((r) => r.name).join(', ') || 'none'}`,
      );
    }
    return found[0] as RecordedResource;
  }

  has(type: string, name?: string): boolean {
    return this.all(type).some((r) => name === undefined || r.name === name);
  }

  /** A resource input holding a JSON document (policies, container definitions, dashboard bodies). */
  json<T = unknown>(type: string, name: string, input: string): T {
    const value = this.one(type, name).inputs[input];
    if (typeof value !== 'string') throw new Error(`${type} ${name}.${input} is not a JSON string`);
    return JSON.parse(value) as T;
  }

  /** The document of the inline role policy registered as `policyLogicalName`. */
  rolePolicy(policyLogicalName: string): PolicyDocument {
    return this.json<PolicyDocument>('aws:iam/rolePolicy:RolePolicy', policyLogicalName, 'policy');
  }

  input<T = unknown>(type: string, name: string, input: string): T {
    return this.one(type, name).inputs[input] as T;
  }
}

/**
 * The whole stack with `settings` on top of MINIMAL_CONFIG (an `undefined` value removes a key), in an account
 * whose existing resources answer the program's look-ups as `invokes` script them and whose existing VPC looks like
 * `vpc` (default: healthy).
 */
export async function deployStack(
  settings: Record<string, ConfigValue> = {},
  {
    stack = 'prod',
    invokes,
    vpc,
  }: { stack?: string; invokes?: Record<string, InvokeAnswer>; vpc?: Partial<OfflineVpc> } = {},
): Promise<Stack> {
  const run = await runProject(PROJECT_DIR, {
    stack,
    config: engineConfig({ ...MINIMAL_CONFIG, ...settings }),
    accountId: ACCOUNT,
    ...(invokes ? { invokes } : {}),
    vpc,
  });
  return new Stack(run.resources, run.outputs, run.pwd);
}

/** Only what `create` registers (one component and its children), with a bare config. */
export async function deployComponent(create: () => unknown, vpc?: Partial<OfflineVpc>): Promise<Stack> {
  const run = await runOffline(
    () => {
      create();
      return {};
    },
    { project: 'retainwise', stack: 'prod', config: engineConfig({}), accountId: ACCOUNT, vpc },
  );
  return new Stack(run.resources, {});
}
