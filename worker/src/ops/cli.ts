import '../cli/quiet.js';
import { runOps } from './main.js';

// `npm run ops -- …` (package.json): the process around runOps.
process.exitCode = await runOps(process.argv.slice(2), {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
