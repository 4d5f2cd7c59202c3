import './quiet.js';
import { open, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isInputError, loadModel, scoreCsv, type ScoreSummary } from '../scoring/index.js';
import { BadInput, EXIT, EXIT_CODES, isClosedPipe, parsing, reportFailure, UsageError } from './command.js';
import { openOutput, STDOUT } from './output-target.js';
import { describeMapping, progressLine } from './progress.js';

const USAGE = 'usage: npm run score -- <input.csv> [-o <output.csv> | -o -] [--model-dir <dir>]';

const HELP = `${USAGE}
Scores a customer CSV with the same code path as the worker.
  <input.csv>       the file to score; - reads stdin
  -o <output.csv>   where the results go (default: <input>.scored.csv beside the input, or stdout for stdin);
                    - is stdout; a device or FIFO is written straight to
  --model-dir <dir> another model directory (default: the bundled model)
  -h, --help        this help
The results CSV goes to the output; a summary (rows, risk counts, variant, rows/s, which input column was read
as which field) goes to stderr, and on a terminal a progress line while it runs.
${EXIT_CODES}`;

interface Args {
  input: string;
  output: string | undefined;
  modelDir: string | undefined;
  help: boolean;
}

function parse(argv: string[]): Args {
  const { values, positionals } = parsing(() =>
    parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        output: { type: 'string', short: 'o' },
        'model-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }),
  );
  if (values.help) return { input: '', output: undefined, modelDir: undefined, help: true };
  if (positionals.length !== 1) throw new UsageError('expected exactly one input file');
  return {
    input: positionals[0] as string,
    output: values.output,
    modelDir: values['model-dir'],
    help: false,
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
  if (args.help) {
    process.stdout.write(`${HELP}\n`);
    return EXIT.ok;
  }
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
  const progress = progressLine(process.stderr);
  let summary: ScoreSummary;
  try {
    summary = await scoreCsv(model, source, target.stream, {
      onProgress: (rows) => progress.update(rows),
      // a file stream or stdout calls back once the bytes are written out
      sinkReleasesChunks: true,
    });
    await target.commit();
  } catch (error) {
    await target.abort();
    // no summary either: the rows it would count were never read
    if (isClosedPipe(error)) return EXIT.ok;
    throw error;
  } finally {
    progress.clear();
  }
  const seconds = (performance.now() - started) / 1000;
  const { High, Medium, Low } = summary.riskCounts;
  process.stderr.write(
    `Scored ${number(summary.rowsProcessed)} of ${number(summary.originalRows)} rows ` +
      `(High ${number(High)}, Medium ${number(Medium)}, Low ${number(Low)}) with model ${summary.modelVersion} ` +
      `variant ${summary.variant} in ${seconds.toFixed(2)} s (${number(Math.round(summary.rowsProcessed / seconds))} rows/s)` +
      `${output === STDOUT ? '' : ` -> ${output}`}\n${describeMapping(summary.mappedColumns)}\n`,
  );
  return EXIT.ok;
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
    const message = fileError(error);
    process.exitCode = reportFailure(
      'score',
      USAGE,
      message === undefined ? error : new BadInput(message),
      isInputError(error),
    );
  },
);
