import { open, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isInputError, loadModel, scoreCsv, type ScoreSummary } from '../scoring/index.js';
import { BadInput } from './command.js';
import { openOutput, STDOUT } from './output-target.js';

/**
 * `npm run score -- <in.csv> [-o out.csv | -o -] [--model-dir dir]`: scores a customer CSV with the same
 * code path as the worker. The summary goes to stderr so `-o -` can pipe the results.
 * Exit codes: 0 success, 2 unusable input (message says why), 64 usage error, 1 anything else.
 */

const USAGE = 'usage: npm run score -- <input.csv> [-o <output.csv> | -o -] [--model-dir <dir>]';

class UsageError extends Error {}

interface Args {
  input: string;
  output: string | undefined;
  modelDir: string | undefined;
}

function parse(argv: string[]): Args {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        output: { type: 'string', short: 'o' },
        'model-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : USAGE);
  }
  if (parsed.values.help) throw new UsageError('');
  if (parsed.positionals.length !== 1) throw new UsageError('expected exactly one input file');
  return {
    input: parsed.positionals[0] as string,
    output: parsed.values.output,
    modelDir: parsed.values['model-dir'],
  };
}

/** npm runs scripts from the package root; paths typed by the user are relative to where they typed them. */
const userPath = (path: string): string => resolve(process.env.INIT_CWD ?? process.cwd(), path);

const STDIN = '-';

/**
 * `<name>.scored.csv` beside a regular input file. Anything else (`-`, /dev/stdin, a FIFO) is a stream, so its
 * results go to stdout instead of into /dev or the folder of a link to a pipe. A missing input gets a file
 * name, so the read fails with its own message.
 */
async function defaultOutput(input: string): Promise<string> {
  if (input === STDIN || /^\/(dev|proc)\//.test(input)) return STDOUT;
  if ((await stat(input).catch(() => undefined))?.isFile() === false) return STDOUT;
  return join(dirname(input), `${basename(input).replace(/\.csv$/i, '')}.scored.csv`);
}

const number = (n: number): string => n.toLocaleString('en-US');

async function main(argv: string[]): Promise<number> {
  const args = parse(argv);
  const input = args.input === STDIN ? STDIN : userPath(args.input);
  const output =
    args.output === undefined
      ? await defaultOutput(input)
      : args.output === STDOUT
        ? STDOUT
        : userPath(args.output);
  const model = await loadModel(args.modelDir === undefined ? undefined : userPath(args.modelDir));
  // opened before the output, so a missing input fails as itself and leaves nothing behind
  const source = input === STDIN ? process.stdin : (await open(input)).createReadStream();
  const target = await openOutput(output);
  const started = performance.now();
  let summary: ScoreSummary;
  try {
    summary = await scoreCsv(model, source, target.stream);
    await target.commit();
  } catch (error) {
    await target.abort();
    throw error;
  }
  const seconds = (performance.now() - started) / 1000;
  const { High, Medium, Low } = summary.riskCounts;
  process.stderr.write(
    `Scored ${number(summary.rowsProcessed)} of ${number(summary.originalRows)} rows ` +
      `(High ${number(High)}, Medium ${number(Medium)}, Low ${number(Low)}) with model ${summary.modelVersion} ` +
      `variant ${summary.variant} in ${seconds.toFixed(2)} s (${number(Math.round(summary.rowsProcessed / seconds))} rows/s)` +
      `${output === STDOUT ? '' : ` -> ${output}`}\n`,
  );
  return 0;
}

function fileError(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const path = (error as NodeJS.ErrnoException | undefined)?.path;
  if (code === 'ENOENT') return `cannot read ${path ?? 'the input'}: no such file`;
  if (code === 'EISDIR') return `${path ?? 'the input'} is a directory, not a CSV file`;
  if (code === 'EACCES') return `permission denied: ${path ?? 'the input'}`;
  return undefined;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message ? `score: ${error.message}\n` : ''}${USAGE}\n`);
      process.exitCode = 64;
    } else if (isInputError(error) || error instanceof BadInput) {
      process.stderr.write(`score: ${error.message}\n`);
      process.exitCode = 2;
    } else {
      const message = fileError(error);
      process.stderr.write(
        `score: ${message ?? (error instanceof Error ? error.message : 'unexpected failure')}\n`,
      );
      process.exitCode = message ? 2 : 1;
    }
  },
);
