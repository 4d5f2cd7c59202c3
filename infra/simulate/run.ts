// `npm run simulate [-- --runs <n>] [-- --write]`: runs the Pulumi program offline with Pulumi.prod.yaml, then
// simulates upload traces through its registered scaling (simulation.ts) for each candidate design of issue
// #15, drawing the AWS latencies of assumptions.ts anew each run. Prints the results and the assumptions; with
// --write, records them in worker/bench/results.json (the `simulate` key, and the two headline figures).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { updateResults } from '../../worker/bench/results-file.js';
import { EXIT, EXIT_CODES, parsing, reportFailure, UsageError } from '../../worker/src/cli/command.js';
import { registeredKeepAlives } from '../plan/keep-alive.js';
import { runProject } from '../plan/offline.js';
import { readStackFiles } from '../plan/plan.js';
import { keepAliveCost } from '../plan/pricing.js';
import { drawer, random } from './draws.js';
import { taskHourUsd, workerFigures, type BenchResults } from './registered-worker.js';
import { report, summarize, type TraceResult } from './report.js';
import { CANDIDATES, DAY, ROWS, TRACES, TUESDAY } from './scenarios.js';
import { simulate, type Scenario, type WorkerFigures } from './simulation.js';

const PROJECT_DIR = path.resolve(import.meta.dirname, '../..');
const RESULTS = path.join(PROJECT_DIR, 'worker/bench/results.json');
const STACK = 'prod';

async function main(argv: string[]): Promise<number> {
  const { values } = parsing(() =>
    parseArgs({
      args: argv,
      options: {
        runs: { type: 'string', default: '100' },
        write: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }),
  );
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return EXIT.ok;
  }
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new UsageError('--runs must be a positive whole number');
  const bench = JSON.parse(readFileSync(RESULTS, 'utf8')) as BenchResults;
  const files = readStackFiles(PROJECT_DIR, STACK);
  const results: TraceResult[] = [];
  let measured: WorkerFigures | undefined;
  let hourUsd = 0;
  for (const candidate of CANDIDATES) {
    const run = await runProject(PROJECT_DIR, {
      stack: STACK,
      config: { ...files.config, ...candidate.config },
      ...(files.accountId ? { accountId: files.accountId } : {}),
    });
    const names = {
      queue: String(run.outputs['queueName']),
      cluster: String(run.outputs['clusterName']),
      service: String(run.outputs['workerServiceName']),
    };
    measured = workerFigures(bench, run.resources, names.service);
    hourUsd = taskHourUsd(run.resources, names.service);
    const stackUsdPerDay = registeredKeepAlives(run.resources).reduce(
      (usd, keepAlive) => usd + keepAliveCost(keepAlive, DAY).usd,
      0,
    );
    for (const trace of TRACES) {
      const outcomes = Array.from({ length: runs }, (_, seed) => {
        const next = random(seed + 1);
        const scenario: Scenario = {
          uploads: trace.uploads(next),
          until: DAY,
          lastActiveAt: trace.lastActiveAt,
          weekday: TUESDAY,
          names,
        };
        return simulate(run, scenario, measured as WorkerFigures, candidate.design, drawer(next));
      });
      results.push(summarize(trace, candidate, outcomes, { taskHourUsd: hourUsd, stackUsdPerDay }));
    }
  }
  if (!measured) throw new Error('no candidate ran');
  process.stdout.write(
    `${report(results, { stack: STACK, runs, rowsPerUpload: ROWS }, measured, hourUsd)}\n`,
  );
  if (values.write) {
    const headline = results.find((r) => r.trace === TRACES[0]?.name && r.candidate === CANDIDATES[0]?.name);
    if (!headline) throw new Error('no result for the configured stack');
    await updateResults(RESULTS, {
      time_to_first_result_from_idle_s_p50: headline.firstResultFromIdle.p50,
      time_to_first_result_from_idle_s_p95: headline.firstResultFromIdle.p95,
      simulate: {
        generatedAt: new Date().toISOString(),
        stack: STACK,
        runsPerTrace: runs,
        rowsPerUpload: ROWS,
        worker: measured,
        fargateTaskHourUsd: hourUsd,
        results,
      },
    });
  }
  return EXIT.ok;
}

const USAGE = 'usage: npm run simulate [-- --runs <n>] [-- --write]';
const HELP = `${USAGE}
Simulates uploads through the scaling that Pulumi.${STACK}.yaml registers (offline: no AWS), for each candidate
design of issue #15, and prints time to first result from idle, queue waits and compute cost per day.
  --runs <n>  runs per trace and design, each drawing the AWS latencies anew (default 100)
  --write     record the results in worker/bench/results.json
  -h, --help  this help
${EXIT_CODES}`;

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error: unknown) => (process.exitCode = reportFailure('simulate', USAGE, error)),
  );
}
