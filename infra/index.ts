// The RetainWise stack: read the config, wire the components, export the outputs. Nothing else lives here.
// A default-exported function (Pulumi calls it, awaits it and exports what it returns) so the offline plan and the
// tests can run the whole program under mocks, once per configuration.
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { Alarms } from './alarms.js';
import { QueueDepthScaling } from './queue-depth-scaling.js';
import { BackendService } from './backend-service.js';
import { capRolesWith } from './boundary.js';
import { loadConfig } from './config.js';
import { GithubOidc } from './github-oidc.js';
import { TaskRoles } from './task-roles.js';
import { Network } from './network.js';
import { OperatorRole } from './operator.js';
import { roleArn } from './policy.js';
import { PredictionQueues } from './prediction-queues.js';
import { pushedImages, WorkerService } from './worker-service.js';

export default async function retainwise() {
  const config = loadConfig();
  const { environment, region } = config;
  const { accountId } = aws.getCallerIdentityOutput();
  const namePrefix = `retainwise-${environment}`;
  const bucketName = config.bucketName ?? pulumi.interpolate`retainwise-uploads-${accountId}`;
  const databaseUrlSecret = {
    name: 'DATABASE_URL',
    secretArn: config.worker.databaseUrlSecretArn,
    jsonKey: config.worker.databaseUrlSecretJsonKey,
  };
  const secretKmsKeyArns = config.worker.databaseSecretKmsKeyArn
    ? [config.worker.databaseSecretKmsKeyArn]
    : [];

  const ci = new GithubOidc('github', {
    repository: config.ci.repository,
    deployTrust: config.ci.deployTrust,
    deployBranch: config.ci.deployBranch,
    deployEnvironment: config.ci.deployEnvironment,
    existingProviderArn: config.ci.oidcProviderArn,
    previewRoleName: config.ci.previewRoleName,
    deployRoleName: config.ci.deployRoleName,
    permissionsBoundaryName: config.ci.permissionsBoundaryName,
    stateBackend: config.ci.stateBackend,
    ecsTaskRoleNames: [
      config.roles.workerTaskRoleName,
      config.roles.backendTaskRoleName,
      config.roles.executionRoleName,
      // Even before the backend runs: enabling it is then a routine deploy, not an administrator's run.
      config.roles.backendExecutionRoleName,
    ],
    flowLogsRoleName: config.roles.flowLogsRoleName,
    operatorRoleName: config.operator.roleName,
    uploadsBucketName: bucketName,
    accountId,
  });
  // Every role below is managed by the deploy role, which may touch it only while it carries the boundary.
  const capped = { transformations: [capRolesWith(ci.permissionsBoundary.arn)] };

  const network = new Network(
    'network',
    {
      ...config.network,
      namePrefix,
      flowLogsRoleName: config.roles.flowLogsRoleName,
      region,
      accountId,
    },
    capped,
  );
  if (config.backend && network.egress === 'vpc-endpoints') {
    void pulumi.log.warn(
      'The backend API runs without a NAT path: it can reach AWS APIs only. Use egress "nat-gateway" if it calls external services.',
    );
  }

  const queues = new PredictionQueues('predictions', {
    ...config.queues,
    sqsVpcEndpointId: network.sqsEndpoint.id,
    // By name: the task roles' policies name the queues, so the roles come after them.
    workloadPrincipalArns: [config.roles.workerTaskRoleName, config.roles.backendTaskRoleName].map(
      (roleName) => accountId.apply((id) => roleArn(id, roleName)),
    ),
    operatorPrincipalArns: [accountId.apply((id) => roleArn(id, config.operator.roleName))],
  });

  const roles = new TaskRoles(
    'task-roles',
    {
      workerTaskRoleName: config.roles.workerTaskRoleName,
      backendTaskRoleName: config.roles.backendTaskRoleName,
      queueArn: queues.queue.arn,
      dlqArn: queues.deadLetterQueue.arn,
      queueKmsKeyArn: config.queues.kmsKeyArn,
      bucketName,
      clusterName: config.worker.clusterName,
      region,
      accountId,
    },
    capped,
  );

  const worker = new WorkerService(
    'worker',
    {
      ...config.worker,
      executionRoleName: config.roles.executionRoleName,
      queues,
      taskRole: roles.workerTaskRole,
      taskRoleGrants: [roles],
      bucketName,
      environment,
      subnetIds: network.privateSubnetIds,
      securityGroupIds: [network.tasksSecurityGroup.id],
      pushedImages: await pushedImages(config.worker.repositoryName),
      region,
      accountId,
    },
    capped,
  );

  const backend = config.backend
    ? new BackendService(
        'backend',
        {
          ...config.backend,
          cluster: worker.cluster,
          taskRole: roles.backendTaskRole,
          taskRoleGrants: [roles],
          executionRoleName: config.roles.backendExecutionRoleName,
          queueUrl: queues.queue.url,
          bucketName,
          environmentName: environment,
          databaseUrlSecret,
          secretKmsKeyArns,
          vpcId: network.vpcId,
          subnetIds: network.privateSubnetIds,
          tasksSecurityGroupId: network.tasksSecurityGroup.id,
          namePrefix,
          logRetentionDays: config.worker.logRetentionDays,
          region,
          accountId,
        },
        capped,
      )
    : undefined;

  const operator = new OperatorRole(
    'operator',
    {
      roleName: config.operator.roleName,
      trustedPrincipalArns: config.operator.trustedPrincipalArns,
      requireMfa: config.operator.requireMfa,
      queueArn: queues.queue.arn,
      dlqArn: queues.deadLetterQueue.arn,
      queueKmsKeyArn: config.queues.kmsKeyArn,
      clusterName: worker.cluster.name,
      workerServiceName: worker.fargate.service.name,
      region,
      accountId,
    },
    capped,
  );

  new QueueDepthScaling('worker-scaling', {
    ...config.scaling,
    clusterName: worker.cluster.name,
    serviceName: worker.fargate.service.name,
    queueName: queues.queue.name,
    workerConcurrency: config.worker.workerConcurrency,
  });

  const alarms = new Alarms('alarms', {
    topicName: config.alarms.topicName,
    email: config.alarms.email,
    environment,
    queueName: queues.queue.name,
    dlqName: queues.deadLetterQueue.name,
    clusterName: worker.cluster.name,
    serviceName: worker.fargate.service.name,
    dlqDepthThreshold: config.alarms.dlqDepthThreshold,
    oldestMessageAgeThresholdSeconds: config.alarms.oldestMessageAgeThresholdSeconds,
    jobFailureRateThresholdPercent: config.alarms.jobFailureRateThresholdPercent,
    backlogWithoutWorkersMinutes: config.alarms.backlogWithoutWorkersMinutes,
    region,
  });

  return {
    queueUrl: queues.queue.url,
    queueArn: queues.queue.arn,
    queueName: queues.queue.name,
    dlqUrl: queues.deadLetterQueue.url,
    dlqArn: queues.deadLetterQueue.arn,
    dlqName: queues.deadLetterQueue.name,
    bucketName: pulumi.output(bucketName),
    workerTaskRoleArn: roles.workerTaskRole.arn,
    backendTaskRoleArn: roles.backendTaskRole.arn,
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
