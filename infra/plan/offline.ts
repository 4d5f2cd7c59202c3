// Runs the Pulumi program without an engine, AWS account or CLI: Pulumi's mock runtime answers every resource
// registration with plausible cloud attributes (ARNs, URLs, ids) and records what the program asked for, with
// its resource options. `npm run plan` and the tests both inspect those recorded inputs.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as pulumi from '@pulumi/pulumi';
import { parse } from 'yaml';
import { OfflineCloud, type MonitorLike } from './offline-cloud.js';
import { HEALTHY_VPC, type OfflineVpc } from './offline-vpc.js';

export interface RecordedResource {
  urn: string;
  type: string;
  name: string;
  /** The id the (mock) provider assigned. */
  id: string;
  /** Inputs exactly as the provider would receive them (Outputs resolved). */
  inputs: Record<string, unknown>;
  /** false for component resources (ours). */
  custom: boolean;
  parentUrn: string | undefined;
  protect: boolean;
  retainOnDelete: boolean;
  /** As the engine passes them to the provider, e.g. `{ update: '75m' }`. */
  customTimeouts: { create?: string; update?: string; delete?: string };
  ignoreChanges: string[];
  dependsOn: string[];
}

/** Answers a data-source invoke (`aws:ecr/getImages:getImages`, …) with the provider's output properties. */
export type InvokeAnswer = (inputs: Record<string, unknown>) => Record<string, unknown>;

export interface OfflineOptions {
  project: string;
  stack: string;
  /** Stack config as the engine passes it: `project:key` → string (structured values JSON-encoded). */
  config: Record<string, string>;
  /** @default '123456789012' */
  accountId?: string;
  /** Scripted answers that replace the built-in ones, by invoke token: what the cloud already holds. */
  invokes?: Record<string, InvokeAnswer>;
  /** The existing VPC that brownfield lookups describe. @default a healthy VPC (see HEALTHY_VPC) */
  vpc?: Partial<OfflineVpc>;
}

export interface OfflineRun<T> {
  resources: RecordedResource[];
  outputs: T;
  accountId: string;
  region: string;
}

type Outputs = Record<string, pulumi.Input<unknown>>;
type Resolved<T extends Outputs> = { [K in keyof T]: pulumi.Unwrap<T[K]> };

/** Runs `program` under mocks and returns every registered resource and the resolved stack outputs. */
export async function runOffline<T extends Outputs>(
  program: () => T | Promise<T>,
  options: OfflineOptions,
): Promise<OfflineRun<Resolved<T>>> {
  const accountId = options.accountId ?? '123456789012';
  const region = regionFromConfig(options.config);
  const cloud = new OfflineCloud(accountId, region, { ...HEALTHY_VPC, ...options.vpc }, options.invokes);
  await pulumi.runtime.setMocks(cloud, options.project, options.stack, false);
  pulumi.runtime.setAllConfig(options.config);
  cloud.captureOptions(pulumi.runtime.getMonitor() as unknown as MonitorLike);
  const outputs = await failOnUnhandledRejection(async () => {
    try {
      // An async program (the stack's default export) settles first, as the language host awaits it: a
      // SettingsError it throws rejects this run once, not every Output derived from its promise.
      return await unwrap(pulumi.output(await program()));
    } finally {
      // Waits for every registration still in flight (those whose inputs resolved after the outputs did).
      await pulumi.runtime.disconnect();
    }
  });
  return { resources: cloud.recorded(), outputs: outputs as Resolved<T>, accountId, region };
}

export interface ProjectRun<T> extends OfflineRun<T> {
  /** The working directory the engine gives the program and every provider plugin it starts. */
  pwd: string;
}

/**
 * Runs a Pulumi project the way `pulumi preview` does, under the mocks: reads `Pulumi.yaml`, makes `main` the
 * working directory (pkg/engine/project.go getPwdMain: a directory `main` becomes pwd; pkg/engine/deployment.go
 * hands that pwd to every plugin, which sdk/go/common/resource/plugin/plugin.go starts with `cmd.Dir = pwd`),
 * imports the entry module as Node's language host does and calls its default export. Relative paths in
 * resource inputs (a docker-build context, a Dockerfile, an asset) are resolved by the providers against `pwd`.
 */
export async function runProject(
  projectDir: string,
  options: Omit<OfflineOptions, 'project'>,
): Promise<ProjectRun<Record<string, unknown>>> {
  const project = parse(readFileSync(path.join(projectDir, 'Pulumi.yaml'), 'utf8')) as {
    name: string;
    main?: string;
  };
  const { pwd, entry } = programLocation(projectDir, project.main);
  const previous = process.cwd();
  process.chdir(pwd);
  try {
    const module = (await import(pathToFileURL(entry).href)) as { default?: unknown };
    const program =
      typeof module.default === 'function'
        ? (module.default as () => Outputs | Promise<Outputs>)
        : () => (module.default ?? {}) as Outputs;
    const run = await runOffline(program, { ...options, project: project.name });
    return { ...run, pwd };
  } finally {
    process.chdir(previous);
  }
}

/** The engine's pwd for `main` and the file Node's `require(pwd)` would load (package.json `main`, else index). */
export function programLocation(
  projectDir: string,
  main: string | undefined,
): { pwd: string; entry: string } {
  const target = path.resolve(projectDir, main ?? '.');
  if (path.relative(projectDir, target).startsWith('..')) {
    throw new Error("project 'main' must be a subfolder");
  }
  if (!statSync(target).isDirectory()) return { pwd: path.dirname(target), entry: target };
  const manifest = path.join(target, 'package.json');
  const declared = statSync(manifest, { throwIfNoEntry: false })
    ? (JSON.parse(readFileSync(manifest, 'utf8')) as { main?: string }).main
    : undefined;
  // tsx resolves `index.js` to the TypeScript source, as the program's `nodeargs: --import tsx` does.
  return { pwd: target, entry: path.resolve(target, declared ?? 'index.ts') };
}

/**
 * Runs `body` as Pulumi's language host runs a program: an unhandled rejection, which is how a failed Output
 * (a SettingsError thrown in an apply) ends a real preview, fails the run instead of escaping it
 * (pulumi/pulumi sdk/nodejs/cmd/run/run.ts, `uncaughtHandler`).
 */
async function failOnUnhandledRejection<T>(body: () => Promise<T>): Promise<T> {
  const others = process.listeners('unhandledRejection');
  const reasons: unknown[] = [];
  const record = (reason: unknown) => reasons.push(reason);
  process.removeAllListeners('unhandledRejection');
  process.on('unhandledRejection', record);
  try {
    const result = await body();
    // Node reports a rejection as unhandled only once the microtasks of its turn have run.
    await new Promise((resolve) => setImmediate(resolve));
    if (reasons.length > 0) throw reasons[0];
    return result;
  } finally {
    process.off('unhandledRejection', record);
    for (const listener of others) process.on('unhandledRejection', listener);
  }
}

function regionFromConfig(config: Record<string, string>): string {
  const region = config['aws:region'];
  if (!region) throw new Error('aws:region is not set in the stack config');
  return region;
}

/** Awaits an Output, failing instead of hanging when the Output rejects. */
function unwrap<T>(output: pulumi.Output<T>): Promise<T> {
  // `promise()` is the SDK's own way to await an Output (used by its test helpers); apply() would never
  // call back on a rejected Output.
  return (output as unknown as { promise(): Promise<T> }).promise();
}
