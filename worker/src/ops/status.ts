import { describeError } from '../errors.js';
import { serviceTasks, type ServiceTasks } from './cloud.js';
import { mainQueue, queueName, type OpsContext, type Outcome } from './context.js';
import { formatDuration } from './duration.js';
import { describeEvidence, splitOrphans } from './orphans.js';
import { queueDepth } from './queues.js';
import { queuedSince, statusCounts } from './rows.js';
import { table } from './table.js';

/** `ops status`: the queues, the worker service and the predictions table, and what among them needs a human. */
export async function status(ctx: OpsContext, options: { olderThanSeconds: number }): Promise<Outcome> {
  const { config, service } = ctx.settings;
  const now = ctx.now();
  const main = await mainQueue(ctx);
  const dlq = await queueDepth(ctx.clients.sqs, config.dlqUrl);
  const { ecs } = ctx.clients;
  let tasks: ServiceTasks | undefined;
  let tasksUnknown: string | undefined;
  if (!ecs) tasksUnknown = 'no ECS on the local stack';
  else if (!service) tasksUnknown = 'unknown: pass --stack-outputs or set ECS_CLUSTER and ECS_SERVICE';
  else {
    try {
      tasks = await serviceTasks(ecs, service);
    } catch (error) {
      tasksUnknown = `unknown: ${describeError(error)}`;
    }
  }
  const counts = await statusCounts(ctx.clients.db, config.jobTimeoutSeconds);
  const queued = await queuedSince(ctx.clients.db, options.olderThanSeconds);
  const { orphaned, undecided } = splitOrphans(queued, main.evidence);
  const age = (since: Date) => (now.getTime() - since.getTime()) / 1000;

  const deadLetters = dlq.visible + dlq.inFlight;
  const problems: string[] = [];
  if (deadLetters > 0) problems.push(`${deadLetters} dead letter(s): npm run ops -- dlq list`);
  if (counts.runningTooLong.length > 0) {
    problems.push(
      `${counts.runningTooLong.length} job(s) RUNNING for longer than the job timeout: their worker died or lost them (npm run ops -- dlq list)`,
    );
  }
  const olderThan = formatDuration(options.olderThanSeconds);
  if (orphaned.length > 0) {
    problems.push(
      `${orphaned.length} QUEUED row(s) older than ${olderThan} with no message: npm run ops -- sweep --older-than ${olderThan} --requeue`,
    );
  }
  if (undecided.length > 0) {
    problems.push(
      `${undecided.length} QUEUED row(s) older than ${olderThan}, and ${describeEvidence(main.evidence)}: jobs are waiting, or have no message`,
    );
  }
  if (tasks && tasks.running === 0 && main.depth.visible > 0) {
    problems.push(`jobs are waiting and no worker task runs (desired ${tasks.desired})`);
  }

  const json = {
    queue: {
      name: queueName(config.queueUrl),
      visible: main.depth.visible,
      inFlight: main.depth.inFlight,
      delayed: main.depth.delayed,
      oldestMessageAgeSeconds: main.oldest ? main.oldest.ageSeconds : null,
      ...(main.oldestUnknown ? { oldestMessageAgeUnknown: main.oldestUnknown } : {}),
    },
    dlq: { name: queueName(config.dlqUrl), visible: dlq.visible, inFlight: dlq.inFlight },
    service: tasks ?? null,
    ...(tasksUnknown ? { serviceUnknown: tasksUnknown } : {}),
    predictions: {
      byStatus: counts.byStatus,
      jobTimeoutSeconds: config.jobTimeoutSeconds,
      runningTooLong: counts.runningTooLong.map((r) => ({ id: r.id, runningSince: r.since.toISOString() })),
      queuedOlderThanSeconds: options.olderThanSeconds,
      queuedWithoutMessage: orphaned.map((r) => ({ id: r.id, queuedSince: r.updatedAt.toISOString() })),
      queuedUndecided: undecided.map((r) => ({ id: r.id, queuedSince: r.updatedAt.toISOString() })),
      messageEvidence: describeEvidence(main.evidence),
    },
    problems,
  };

  const lines = [
    `Main queue ${json.queue.name}: ${main.depth.visible} waiting, ${main.depth.inFlight} in flight, ${main.depth.delayed} delayed; oldest message ${main.oldest ? formatDuration(main.oldest.ageSeconds) : `n/a (${main.oldestUnknown})`}`,
    `Dead-letter queue ${json.dlq.name}: ${dlq.visible} waiting, ${dlq.inFlight} held in flight`,
    `Worker tasks: ${tasks ? `${tasks.running} running, ${tasks.desired} desired, ${tasks.pending} pending` : `n/a (${tasksUnknown})`}`,
    `Predictions: ${Object.entries(counts.byStatus)
      .map(([s, n]) => `${n} ${s}`)
      .join(', ')}`,
  ];
  const listed = [
    ...counts.runningTooLong.map((r) => [
      r.id,
      'RUNNING',
      formatDuration(age(r.since)),
      'longer than the job timeout',
    ]),
    ...orphaned.map((r) => [r.id, 'QUEUED', formatDuration(age(r.updatedAt)), 'no message']),
    ...undecided.map((r) => [r.id, 'QUEUED', formatDuration(age(r.updatedAt)), 'waiting, or no message']),
  ];
  if (listed.length > 0) lines.push('', table(['PREDICTION', 'STATUS', 'FOR', 'WHY'], listed));
  lines.push(
    '',
    problems.length > 0 ? ['Problems:', ...problems.map((p) => `  - ${p}`)].join('\n') : 'No problems.',
  );
  return { exitCode: problems.length > 0 ? 1 : 0, json, text: lines.join('\n') };
}
