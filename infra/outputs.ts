// The stack outputs: what CI, the operators' tools and the backend read after a deploy (infra/README.md, Outputs).
import * as pulumi from '@pulumi/pulumi';
import type { Alarms } from './alarms.js';
import type { BackendService } from './backend-service.js';
import type { GithubOidc } from './github-oidc.js';
import type { Network } from './network.js';
import type { OperatorRole } from './operator.js';
import type { PredictionQueues } from './prediction-queues.js';
import type { TaskRoles } from './task-roles.js';
import type { WorkerService } from './worker-service.js';

export function stackOutputs(c: {
  bucketName: pulumi.Input<string>;
  ci: GithubOidc;
  network: Network;
  queues: PredictionQueues;
  taskRoles: TaskRoles;
  worker: WorkerService;
  backend: BackendService | undefined;
  operator: OperatorRole;
  alarms: Alarms;
}) {
  const { bucketName, ci, network, queues, taskRoles, worker, backend, operator, alarms } = c;
  return {
    queueUrl: queues.queue.url,
    queueArn: queues.queue.arn,
    queueName: queues.queue.name,
    dlqUrl: queues.deadLetterQueue.url,
    dlqArn: queues.deadLetterQueue.arn,
    dlqName: queues.deadLetterQueue.name,
    bucketName: pulumi.output(bucketName),
    workerTaskRoleArn: taskRoles.workerTaskRole.arn,
    backendTaskRoleArn: taskRoles.backendTaskRole.arn,
    executionRoleArn: worker.fargate.executionRole.arn,
    backendExecutionRoleArn: backend?.fargate.executionRole.arn,
    previewRoleArn: ci.previewRole.arn,
    deployRoleArn: ci.deployRole.arn,
    operatorRoleArn: operator.role.arn,
    githubOidcProviderArn: ci.providerArn,
    clusterName: worker.cluster.name,
    workerServiceName: worker.fargate.service.name,
    workerTaskDefinitionArn: worker.fargate.taskDefinition.arn,
    workerSecurityGroupIds: [network.tasksSecurityGroup.id],
    backendServiceName: backend?.fargate.service.name,
    workerImageUri: worker.imageUri,
    vpcId: network.vpcId,
    privateSubnetIds: network.privateSubnetIds,
    alarmTopicArn: alarms.topic.arn,
    dashboardUrl: alarms.dashboardUrl,
  };
}
