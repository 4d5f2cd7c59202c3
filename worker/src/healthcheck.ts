import { checkLiveness, DEFAULT_HEALTH_FILE } from './health.js';

// Container HEALTHCHECK entry point: exit 0 when the worker loop is alive, 1 otherwise (reason on stderr).
// It reads only HEALTH_FILE, so it runs in milliseconds and never needs the worker's secrets.
const result = checkLiveness(process.env.HEALTH_FILE?.trim() || DEFAULT_HEALTH_FILE);
if (!result.healthy) process.stderr.write(`unhealthy: ${result.reason}\n`);
process.exitCode = result.healthy ? 0 : 1;
