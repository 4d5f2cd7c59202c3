// Runs a replayed image under the rules of an ECS container definition, without Docker: bubblewrap mounts the
// image's root file system (read-only when the definition says so), creates each mount point's volume the
// way Fargate does, and setpriv switches to the definition's user. The base image's OS is this host's Debian:
// its /usr and /etc, read-only, with the Node.js running the tests at the image's /usr/local/bin/node.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { chmod, chown, cp, mkdir, readFile, stat, symlink } from 'node:fs/promises';
import path from 'node:path';
import type { Container } from '../../../infra/test/support/ecs.js';
import type { ImageConfig } from './replay.js';

/** The PATH of the base image's config: Docker's default, which the Debian and Node.js images keep
 * (moby/moby pkg/system/path.go, DefaultPathEnvUnix; nodejs/docker-node 24/trixie-slim/Dockerfile sets none). */
const BASE_IMAGE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Home directories in the base image's /etc/passwd: nodejs/docker-node's Dockerfile runs
 * `useradd --uid 1000 --gid node --create-home node`. */
const BASE_IMAGE_HOMES = new Map([
  [0, '/root'],
  [1000, '/home/node'],
]);

/** What this machine lacks to run the sandbox; empty when it can. */
export function sandboxPrerequisites(image: ImageConfig): string[] {
  const missing: string[] = [];
  // Only root can create a volume owned by root and then switch to the container's user, as ECS does.
  if (process.getuid?.() !== 0) missing.push('root (to create root-owned volumes and switch users)');
  if (!onPath('bwrap')) missing.push('bwrap (apt-get install bubblewrap)');
  for (const tool of ['setpriv', 'nsenter'])
    if (!onPath(tool)) missing.push(`${tool} (apt-get install util-linux)`);
  // The image's /usr is this host's, so what the runtime stage installs there must be installed here.
  const [executable = ''] = [...image.entrypoint, ...image.cmd];
  if (executable.startsWith('/usr/') && !isExecutable(executable))
    missing.push(`${executable}, the image's entry point (apt-get install ${path.basename(executable)})`);
  return missing;
}

/**
 * The base image's own part of the root file system, in `rootfs` (the runtime stage's folder, before its
 * instructions are replayed): mount points for the host's /usr and /etc, Debian's merged-/usr links, /tmp as
 * Debian's base-files package ships it (`drwxrwxrwt root/root`, `dpkg-deb -c base-files_*.deb`; the Node.js
 * image only empties it) and the node user's home. Returns the base image's config.
 */
export async function assembleBaseImage(rootfs: string): Promise<ImageConfig> {
  await mkdir(rootfs, { recursive: true });
  await chmod(rootfs, 0o755);
  for (const dir of ['usr', 'etc', 'proc', 'dev', 'root', 'home/node'])
    await mkdir(path.join(rootfs, dir), { recursive: true });
  for (const link of ['bin', 'sbin', 'lib', 'lib64']) await symlink(`usr/${link}`, path.join(rootfs, link));
  await mkdir(path.join(rootfs, 'tmp'));
  await chmod(path.join(rootfs, 'tmp'), 0o1777);
  // Only root can give the home to node; the sandbox needs root anyway, the other image tests do not.
  if (process.getuid?.() === 0) await chown(path.join(rootfs, 'home/node'), 1000, 1000);
  return {
    user: '',
    workdir: '/',
    env: { PATH: BASE_IMAGE_PATH },
    volumes: [],
    entrypoint: ['docker-entrypoint.sh'],
    cmd: ['node'],
  };
}

export interface TaskOptions {
  /** The image's root file system. */
  rootfs: string;
  image: ImageConfig;
  container: Container;
  /** The container's environment as ECS passes it (environment and resolved secrets). */
  environment: Record<string, string>;
  /** An empty folder for the task's volumes. */
  volumesDir: string;
}

export interface RunningTask {
  /** stdout + stderr of the container so far */
  output(): string;
  /** Runs a health-check style command (`CMD` / `CMD-SHELL` form) inside the running container. */
  exec(command: string[]): Promise<{ code: number | null; output: string }>;
  /** Stops the container as ECS does (SIGTERM to the init process's child); resolves to its exit code. */
  stop(): Promise<number | null>;
  exited: Promise<number | null>;
}

export async function startTask(options: TaskOptions): Promise<RunningTask> {
  const { container, image, rootfs } = options;
  const [uid, gid] = numericUser(container.user);
  const workdir = image.workdir;
  const env = {
    ...image.env,
    ...options.environment,
    // runc sets HOME from the image's /etc/passwd when the container has none (opencontainers/runc
    // libcontainer/init_linux.go, setupUser); the host's /etc stands in for the image's, so it is done here.
    HOME: options.environment.HOME ?? image.env.HOME ?? BASE_IMAGE_HOMES.get(uid) ?? '/',
  };
  const mounts = [
    container.readonlyRootFilesystem ? '--ro-bind' : '--bind',
    rootfs,
    '/',
    ...['--ro-bind', '/usr', '/usr', '--ro-bind', '/etc', '/etc'],
    // The image's /usr/local holds only Node.js (npm and corepack are removed), not this host's tools.
    ...['--tmpfs', '/usr/local', '--dir', '/usr/local/bin'],
    ...['--ro-bind', process.execPath, '/usr/local/bin/node', '--remount-ro', '/usr/local'],
  ];
  for (const mountPoint of container.mountPoints) {
    const volume = path.join(options.volumesDir, mountPoint.sourceVolume);
    await createVolume(volume, rootfs, mountPoint.containerPath, image);
    mounts.push(mountPoint.readOnly ? '--ro-bind' : '--bind', volume, mountPoint.containerPath);
  }
  const init = isInitProcessEnabled(container)
    ? [] // bwrap's PID 1 reaps and waits like ECS's init process; the entry point runs as its child
    : ['--as-pid-1'];
  const args = [
    ...mounts,
    ...['--proc', '/proc', '--dev', '/dev', '--chdir', workdir],
    ...['--unshare-pid', '--unshare-ipc', '--unshare-uts', '--die-with-parent', ...init],
    ...['--info-fd', '3', '--'],
    ...userSwitch(uid, gid, container),
    ...image.entrypoint,
    ...image.cmd,
  ];
  // The network namespace stays shared: the task reaches the local stack on 127.0.0.1.
  const child = spawn('bwrap', args, { env, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const sandboxPid = await childPid(child, exited, () => output);
  // The entry point's process; with an init process, that is its child.
  const mainPid = isInitProcessEnabled(container) ? await firstChild(sandboxPid) : sandboxPid;

  return {
    output: () => output,
    exited,
    async exec(command) {
      const [form, ...rest] = command;
      const argv =
        form === 'CMD'
          ? rest
          : form === 'CMD-SHELL'
            ? ['/bin/sh', '-c', rest.join(' ')]
            : unsupported(`health check form ${String(form)}`);
      // Like `docker exec`: the container's namespaces, root, working directory, user and environment (the
      // working directory and root are the entry point's: nsenter resolves a named one outside the container).
      const nsenter = ['--target', String(mainPid), '--mount', '--pid', '--root', '--wd'];
      const check = spawn('nsenter', [...nsenter, '--', ...userSwitch(uid, gid, container), ...argv], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let checkOutput = '';
      check.stdout.on('data', (chunk: Buffer) => (checkOutput += chunk.toString()));
      check.stderr.on('data', (chunk: Buffer) => (checkOutput += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => check.once('exit', resolve));
      return { code, output: checkOutput };
    },
    async stop() {
      // bwrap forwards no signals; ECS's init forwards SIGTERM to its child, so the child gets it here.
      process.kill(mainPid, 'SIGTERM');
      return exited;
    },
  };
}

/**
 * A bind-mount volume as Fargate creates it: empty, owned by root, mode 0755, unless the image declares a
 * VOLUME at the same path, in which case the image's directory is copied onto it with its contents, owner and
 * mode. https://docs.aws.amazon.com/AmazonECS/latest/developerguide/bind-mounts.html ("Considerations": the
 * data plane looks for a VOLUME directive; "By default, the volume permissions are set to 0755 and the owner
 * as root"); the copy keeps owner and mode as Docker's does (moby/moby daemon copyExistingContents and
 * copyOwnership).
 */
async function createVolume(
  volume: string,
  rootfs: string,
  containerPath: string,
  image: ImageConfig,
): Promise<void> {
  if (!image.volumes.includes(containerPath)) {
    await mkdir(volume);
    await chown(volume, 0, 0);
    await chmod(volume, 0o755);
    return;
  }
  const source = path.join(rootfs, containerPath);
  await cp(source, volume, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
  const info = await stat(source);
  await chown(volume, info.uid, info.gid);
  await chmod(volume, info.mode & 0o7777);
}

/** setpriv as the container's user with no supplementary groups, and the capability drop of linuxParameters. */
function userSwitch(uid: number, gid: number, container: Container): string[] {
  const dropped = capabilitiesDropped(container);
  const caps = dropped.includes('ALL') ? ['--bounding-set=-all', '--inh-caps=-all'] : [];
  if (dropped.some((cap) => cap !== 'ALL')) unsupported(`dropping capabilities ${dropped.join(', ')}`);
  return ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', ...caps];
}

function numericUser(user: string): [number, number] {
  const match = /^(\d+):(\d+)$/.exec(user);
  if (!match) return unsupported(`container user "${user}" (only uid:gid)`);
  return [Number(match[1]), Number(match[2])];
}

function isInitProcessEnabled(container: Container): boolean {
  return (
    (container.linuxParameters as { initProcessEnabled?: boolean } | undefined)?.initProcessEnabled === true
  );
}

function capabilitiesDropped(container: Container): string[] {
  return (
    (container.linuxParameters as { capabilities?: { drop?: string[] } } | undefined)?.capabilities?.drop ??
    []
  );
}

/** The host pid of the sandbox's PID 1, from bwrap's --info-fd. */
async function childPid(
  child: ChildProcess,
  exited: Promise<number | null>,
  output: () => string,
): Promise<number> {
  const info = child.stdio[3];
  if (!info) throw new Error('bwrap: no info pipe');
  let json = '';
  const pid = new Promise<number>((resolve, reject) => {
    info.on('data', (chunk: Buffer) => {
      json += chunk.toString();
      const match = /"child-pid":\s*(\d+)/.exec(json);
      if (match) resolve(Number(match[1]));
    });
    info.once('end', () => reject(new Error(`bwrap did not start the container:\n${output()}`)));
  });
  return Promise.race([
    pid,
    exited.then((code) => {
      throw new Error(`bwrap exited with ${String(code)} before the container started:\n${output()}`);
    }),
  ]);
}

/** The first child of `pid`, once it has forked one. */
async function firstChild(pid: number): Promise<number> {
  for (let attempt = 0; attempt < 1000; attempt += 1) {
    const [first] = (await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8')).trim().split(/\s+/);
    if (first) return Number(first);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`the container's init process (${pid}) started no entry point`);
}

function onPath(name: string): boolean {
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .some((dir) => dir && isExecutable(path.join(dir, name)));
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function unsupported(what: string): never {
  throw new Error(`task-sandbox does not model ${what}`);
}
