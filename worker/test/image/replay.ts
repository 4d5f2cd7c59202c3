// Replays a Dockerfile stage on this machine without Docker: each stage's filesystem is a folder, WORKDIR /
// ENV / COPY behave as in a build (COPY sees only what .dockerignore lets into the context) and RUN lines run
// through /bin/sh, as Docker's shell form does; USER / VOLUME / ENTRYPOINT / CMD make up the image config a
// container of the stage starts from. Used to test the worker image where no Docker engine exists.
import dockerignore from '@balena/dockerignore';
import { spawn } from 'node:child_process';
import { cp, mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { envAssignments, execForm, type DockerInstruction, type DockerStage } from './dockerfile.js';

export interface BuildContext {
  dir: string;
  /** Whether Docker would leave this path (relative to `dir`, with `/`) out of the build context. */
  isIgnored(relativePath: string): boolean;
}

export async function loadBuildContext(dir: string): Promise<BuildContext> {
  // A CommonJS package whose typings declare an ES default export: `.default` is the factory for both.
  const rules = dockerignore.default().add(await readFile(path.join(dir, '.dockerignore'), 'utf8'));
  return { dir, isIgnored: (relativePath) => rules.ignores(relativePath) };
}

/** The folder that plays a stage's root filesystem: stage `build`'s `/app` is `<root>/build/app`. */
export function stageDir(root: string, stageName: string, containerPath = '/'): string {
  return path.join(root, stageName, containerPath);
}

/** The image config a stage leaves: how a container of the image starts. */
export interface ImageConfig {
  /** `USER`; empty for root. */
  user: string;
  workdir: string;
  env: Record<string, string>;
  /** Paths declared with `VOLUME`. */
  volumes: string[];
  entrypoint: string[];
  cmd: string[];
}

/** The config of an image built `FROM scratch`. */
export const SCRATCH_CONFIG: ImageConfig = {
  user: '',
  workdir: '/',
  env: {},
  volumes: [],
  entrypoint: [],
  cmd: [],
};

export interface ReplayOptions {
  context: BuildContext;
  /** Where the replayed stages live; see {@link stageDir}. */
  root: string;
  /** RUN lines that need the real base image (apt, root) are asserted on instead of replayed. */
  runCommands: boolean;
  /** The config of the stage's FROM image. @default SCRATCH_CONFIG */
  base?: ImageConfig;
}

export async function replayStage(stage: DockerStage, options: ReplayOptions): Promise<ImageConfig> {
  const base = options.base ?? SCRATCH_CONFIG;
  const config = { ...base, env: { ...base.env }, volumes: [...base.volumes] };
  let workdir = base.workdir;
  // RUN lines see only the stage's own ENV: the base image's PATH names its Node.js, not the one replaying.
  const env: Record<string, string> = {};
  for (const instruction of stage.instructions) {
    switch (instruction.keyword) {
      case 'WORKDIR':
        workdir = path.posix.resolve(workdir, instruction.content);
        config.workdir = workdir;
        await mkdir(stageDir(options.root, stage.name, workdir), { recursive: true });
        break;
      case 'ENV': {
        const assignments = Object.fromEntries(envAssignments(instruction));
        Object.assign(env, assignments);
        Object.assign(config.env, assignments);
        break;
      }
      case 'USER':
        config.user = instruction.content;
        break;
      case 'VOLUME':
        for (const volume of volumePaths(instruction)) {
          config.volumes.push(volume);
          await mkdir(stageDir(options.root, stage.name, volume), { recursive: true });
        }
        break;
      case 'ENTRYPOINT':
        config.entrypoint = execForm(instruction);
        break;
      case 'CMD':
        config.cmd = execForm(instruction);
        break;
      case 'COPY': {
        const sources = instruction.args.slice(0, -1);
        const destination = path.posix.resolve(workdir, instruction.args.at(-1) ?? '.');
        const intoDirectory = sources.length > 1 || (instruction.args.at(-1) ?? '').endsWith('/');
        const from = instruction.flags.get('from');
        for (const source of sources) {
          const target = stageDir(
            options.root,
            stage.name,
            intoDirectory ? path.posix.join(destination, path.posix.basename(source)) : destination,
          );
          if (from === undefined || from === null) await copyFromContext(options.context, source, target);
          else await copyPath(stageDir(options.root, from, source), target);
        }
        break;
      }
      case 'RUN':
        if (options.runCommands)
          await runShell(instruction.content, stageDir(options.root, stage.name, workdir), env);
        break;
      default:
      // HEALTHCHECK (which ECS ignores) and ARG; tests assert on them.
    }
  }
  return config;
}

/** `VOLUME ["/a", "/b"]` or `VOLUME /a /b`. */
function volumePaths(instruction: DockerInstruction): string[] {
  if (!instruction.content.trimStart().startsWith('[')) return instruction.args;
  const parsed: unknown = JSON.parse(instruction.content);
  if (!Array.isArray(parsed) || !parsed.every((part): part is string => typeof part === 'string'))
    throw new Error(`VOLUME needs paths: ${instruction.content}`);
  return parsed;
}

async function copyFromContext(context: BuildContext, source: string, target: string): Promise<void> {
  if (context.isIgnored(source))
    throw new Error(`COPY ${source}: excluded from the build context by .dockerignore`);
  await copyPath(path.join(context.dir, source), target, (file) => {
    const relative = path.relative(context.dir, file).split(path.sep).join('/');
    return !context.isIgnored(relative);
  });
}

async function copyPath(source: string, target: string, filter?: (file: string) => boolean): Promise<void> {
  const info = await stat(source).catch(() => {
    throw new Error(`COPY source not found: ${source}`);
  });
  if (!info.isDirectory()) await mkdir(path.dirname(target), { recursive: true });
  // A directory's contents land in the target, symlinks (npm's workspace links) stay links, as in Docker.
  await cp(source, target, { recursive: true, verbatimSymlinks: true, ...(filter ? { filter } : {}) });
}

/** Runs a RUN line's script with the stage's ENV on top of a minimal environment, as a build would: no npm_*
 * variables of the npm process running the tests, no NODE_ENV=test of the test runner. */
async function runShell(
  script: string,
  cwd: string,
  stageEnvironment: Record<string, string>,
): Promise<void> {
  const passThrough = Object.entries(process.env).filter(([name]) =>
    /^(HOME|USER|LANG|TMPDIR|https?_proxy|no_proxy|HTTPS?_PROXY|NO_PROXY)$/.test(name),
  );
  const env = {
    ...Object.fromEntries(passThrough),
    // The Node.js that runs the tests is the one the replayed stage uses.
    PATH: [path.dirname(process.execPath), process.env.PATH ?? ''].join(path.delimiter),
    ...stageEnvironment,
  };
  const child = spawn('/bin/sh', ['-c', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) throw new Error(`RUN ${script}\nexited with ${String(code)}:\n${abbreviate(output)}`);
}

/** The start (npm states the cause first, then prints its usage) and the end of a long output. */
function abbreviate(output: string): string {
  return output.length <= 6000 ? output : `${output.slice(0, 3000)}\n[…]\n${output.slice(-3000)}`;
}
