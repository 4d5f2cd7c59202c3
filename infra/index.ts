// The RetainWise stack: read the config, wire the components, export the outputs. Nothing else lives here.
// A default-exported function (Pulumi calls it, awaits it and exports what it returns) so the offline plan and the
// tests can run the whole program under mocks, once per configuration.
import { Alarms } from './alarms.js';
import { BackendService } from './backend-service.js';
import { capRolesWith } from './boundary.js';
import { loadConfig } from './config.js';
import { GithubOidc } from './github-oidc.js';
import { Network } from './network.js';
import { OperatorRole } from './operator.js';
import { stackOutputs } from './outputs.js';
import { PredictionQueues } from './prediction-queues.js';
import { QueueDepthScaling } from './queue-depth-scaling.js';
import { QueueKeepAlive } from './queue-keep-alive.js';
import { TaskRoles } from './task-roles.js';
import { pushedImages } from './worker-image.js';
import { WorkerService } from './worker-service.js';

export default async function retainwise() {
  const config = loadConfig();
  const { environment, region, accountId, bucketName } = config;
  const stack = { environment, region, accountId };

  const ci = new GithubOidc('github', { ...config.ci, uploadsBucketName: bucketName, accountId });
  // Every role below is managed by the deploy role, which may touch it only while it carries the boundary.
  const capped = { transformations: [capRolesWith(ci.permissionsBoundary.arn)] };

  const network = new Network('network', { ...config.network, ...stack }, capped);
  const queues = new PredictionQueues('predictions', {
    ...config.queues,
    ...stack,
    sqsVpcEndpointId: network.sqsEndpoint.id,
    workloadRoleNames: [config.taskRoles.workerTaskRoleName, config.taskRoles.backendTaskRoleName],
    operatorRoleNames: [config.operator.operatorRoleName],
  });
  const taskRoles = new TaskRoles(
    'task-roles',
    { ...config.taskRoles, ...stack, queues, bucketName, clusterName: config.worker.clusterName },
    capped,
  );
  const worker = new WorkerService(
    'worker',
    {
      ...config.worker,
      ...stack,
      queues,
      taskRoles,
      network,
      bucketName,
      pushedImages: await pushedImages(config.worker.workerRepositoryName),
    },
    capped,
  );
  const backend =
    config.backend &&
    new BackendService(
      'backend',
      { ...config.backend, ...stack, worker, taskRoles, network, bucketName },
      capped,
    );
  const operator = new OperatorRole('operator', { ...config.operator, ...stack, worker }, capped);
  new QueueDepthScaling('worker-scaling', { ...config.scaling, worker });
  const alarms = new Alarms('alarms', { ...config.alarms, ...stack, worker });
  const { logRetentionDays } = config.worker;
  if (config.keepAlive.queueKeepAlive)
    new QueueKeepAlive('queue-keep-alive', { ...stack, queues, alarms, logRetentionDays }, capped);

  return stackOutputs({ bucketName, ci, network, queues, taskRoles, worker, backend, operator, alarms });
}
