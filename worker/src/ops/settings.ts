import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { BadInput } from '../cli/command.js';

/**
 * Where `npm run ops` finds the queues, the bucket and the database: the worker's own environment variables,
 * read by the worker's own loader (so the local stack's `npm start -s -- --serve` lines drive it unchanged), and,
 * against AWS, the stack's outputs (`pulumi stack output --json`), which name the queues, the bucket and the
 * worker service. The database URL is never an output: it is the operator role's secret, from the environment.
 */
export interface OpsSettings {
  config: Config;
  /** the worker's ECS service; unset on the local stack, or when neither outputs nor env name it */
  service: { cluster: string; name: string } | undefined;
}

/** stack output → the variable it stands for */
const OUTPUT_VARIABLES: Record<string, string> = {
  queueUrl: 'PREDICTIONS_QUEUE_URL',
  dlqUrl: 'PREDICTIONS_DLQ_URL',
  bucketName: 'S3_BUCKET',
  clusterName: 'ECS_CLUSTER',
  workerServiceName: 'ECS_SERVICE',
};

function readOutputs(source: string): Record<string, string> {
  let text: string;
  try {
    // npm runs scripts from the repository root; a path is relative to where the operator typed it
    const path = resolve(process.env.INIT_CWD ?? process.cwd(), source);
    text = readFileSync(source === '-' ? process.stdin.fd : path, 'utf8');
  } catch (error) {
    throw new BadInput(
      `cannot read the stack outputs ${source}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new BadInput(`the stack outputs ${source} are not JSON (expected \`pulumi stack output --json\`)`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new BadInput(`the stack outputs ${source} are not a JSON object of outputs`);
  }
  const outputs = parsed as Record<string, unknown>;
  const variables: Record<string, string> = {};
  for (const [output, variable] of Object.entries(OUTPUT_VARIABLES)) {
    if (typeof outputs[output] === 'string') variables[variable] = outputs[output];
  }
  // The queue ARN carries the stack's region, which an operator's shell may not have set.
  const region = typeof outputs.queueArn === 'string' ? outputs.queueArn.split(':')[3] : undefined;
  if (region) variables.AWS_REGION = region;
  return variables;
}

export function loadOpsSettings(
  environment: NodeJS.ProcessEnv,
  stackOutputs: string | undefined,
): OpsSettings {
  const fromOutputs = stackOutputs === undefined ? {} : readOutputs(stackOutputs);
  // A file named on the command line wins over the shell, except for a region the shell sets deliberately.
  const env: NodeJS.ProcessEnv = {
    ...environment,
    ...fromOutputs,
    ...(environment.AWS_REGION ? { AWS_REGION: environment.AWS_REGION } : {}),
  };
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      throw new BadInput(`configuration: ${error.problems.join('; ')} (see --help, "Where it connects")`);
    }
    throw error;
  }
  const cluster = env.ECS_CLUSTER?.trim();
  const name = env.ECS_SERVICE?.trim();
  return { config, service: cluster && name ? { cluster, name } : undefined };
}
