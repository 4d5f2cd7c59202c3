// `npm run plan [-- --stack <name>] [-- --json | --import-file]`: runs the Pulumi program offline (Pulumi's
// mocks, no AWS account, no CLI) with Pulumi.<stack>.yaml and prints every resource it would register, as
// `pulumi preview`'s tree with key settings, the stack outputs and the fixed monthly cost. With --json, stdout
// carries one JSON document and nothing else; with --import-file, the `pulumi import --file` document adopting
// the existing resources. Placeholder values left in the stack file are warned about on stderr.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { EXIT, EXIT_CODES, parsing, reportFailure, UsageError } from '../../worker/src/cli/command.js';
import { adoptionImportFile } from './adopt.js';
import { runProject } from './offline.js';
import { placeholderWarnings } from './placeholders.js';
import { estimateMonthlyCost } from './pricing.js';
import { renderTable } from './table.js';

const PROJECT_DIR = path.resolve(import.meta.dirname, '../..');

export interface StackFiles {
  project: string;
  /** Engine-style config: `namespace:key` → string, structured values as JSON. */
  config: Record<string, string>;
  /** The only account the stack may deploy to (aws:allowedAccountIds), used for the plan's ARNs. */
  accountId: string | undefined;
}

/** Reads Pulumi.yaml and Pulumi.<stack>.yaml the way the engine hands config to a program. */
export function readStackFiles(projectDir: string, stack: string): StackFiles {
  const project = (parse(readFileSync(path.join(projectDir, 'Pulumi.yaml'), 'utf8')) as { name: string })
    .name;
  const file = path.join(projectDir, `Pulumi.${stack}.yaml`);
  const settings =
    (parse(readFileSync(file, 'utf8')) as { config?: Record<string, unknown> } | null)?.config ?? {};
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(settings)) {
    if (value !== null && typeof value === 'object' && 'secure' in value) {
      throw new Error(`${key} in ${path.basename(file)} is a secret; the offline plan cannot decrypt it`);
    }
    config[key] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  const allowed = settings['aws:allowedAccountIds'];
  return { project, config, accountId: Array.isArray(allowed) ? String(allowed[0]) : undefined };
}

const USAGE = 'usage: npm run plan [-- --stack <name>] [-- --json | --import-file]';

const HELP = `${USAGE}
Runs the Pulumi program offline (Pulumi's mocks: no AWS account, CLI or Docker) with Pulumi.<stack>.yaml.
  (no flags)      every resource as pulumi preview's tree (op, type, name, key settings; 120 columns wide),
                  the stack outputs and the fixed monthly cost
  --json          one JSON document on stdout: every resource with its full inputs, the outputs and the cost
  --import-file   the \`pulumi import --file\` document that adopts the existing resources
  --stack <name>  another stack file (default: prod)
  -h, --help      this help
Placeholders still in the stack file (account 123456789012, ops@retainwise.example) are warned about on stderr.
${EXIT_CODES}`;

async function main(argv: string[]): Promise<number> {
  const { values } = parsing(() =>
    parseArgs({
      args: argv,
      options: {
        stack: { type: 'string', default: 'prod' },
        json: { type: 'boolean' },
        'import-file': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }),
  );
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return EXIT.ok;
  }
  if (values.json && values['import-file'])
    throw new UsageError('--json and --import-file exclude each other');
  const { stack, json } = values;
  const files = readStackFiles(PROJECT_DIR, stack);
  // stderr only, so that stdout (the table, --json, --import-file) stays what it was.
  for (const warning of placeholderWarnings(`Pulumi.${stack}.yaml`, files.config)) {
    process.stderr.write(`plan: warning: ${warning}\n`);
  }
  const run = await runProject(PROJECT_DIR, {
    stack,
    config: files.config,
    ...(files.accountId ? { accountId: files.accountId } : {}),
  });
  const outputs = run.outputs;
  const cost = estimateMonthlyCost(run.resources);
  if (values['import-file']) {
    const file = adoptionImportFile(run.resources, { accountId: run.accountId, region: run.region });
    process.stdout.write(`${JSON.stringify(file, null, 2)}\n`);
  } else if (json) {
    const resources = run.resources.map(
      ({ urn, type, name, id, custom, parentUrn, protect, ignoreChanges, dependsOn, inputs }) => ({
        urn,
        type,
        name,
        id,
        custom,
        parentUrn,
        protect,
        ignoreChanges,
        dependsOn,
        inputs,
      }),
    );
    process.stdout.write(
      `${JSON.stringify({ stack, project: files.project, resources, outputs, cost }, null, 2)}\n`,
    );
  } else {
    process.stdout.write(
      `${renderTable({ stack, project: files.project, resources: run.resources, outputs, cost })}\n`,
    );
  }
  return EXIT.ok;
}

// Run as a script (`tsx infra/plan/plan.ts`), not when the tests import the helpers above.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error: unknown) => (process.exitCode = reportFailure('plan', USAGE, error)),
  );
}
