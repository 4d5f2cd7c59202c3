#!/usr/bin/env bash
# Proves a `pulumi up` really deployed the worker: run after it, with the stack outputs as JSON
# (`pulumi stack output --json > outputs.json; verify-deploy.sh outputs.json`).
#
# Why it is needed: the service normally runs zero tasks, so ECS's steady-state wait and the deployment circuit
# breaker have nothing to check, and when the circuit breaker does roll back, the rollback ends in a steady state
# that the provider reports as success. So:
#   1. the service's primary deployment must run the task definition Pulumi registered, and its rollout must not
#      have failed (a rollback makes an older revision primary);
#   2. that task definition must start: one Fargate task of it, with the service's subnets and security groups,
#      runs `main.js --self-check` (config, model, database grants, queues, scratch space) and must exit 0.
# Needs the AWS CLI v2 and jq (both on GitHub's ubuntu runners) and ecs:DescribeServices, ecs:RunTask,
# ecs:DescribeTasks plus iam:PassRole on the task and execution roles (the deploy role has them).
set -euo pipefail

outputs=${1:?usage: verify-deploy.sh <stack outputs JSON file>}
output() { jq -er --arg key "$1" '.[$key]' "$outputs"; }
cluster=$(output clusterName)
service=$(output workerServiceName)
registered=$(output workerTaskDefinitionArn)
network=$(jq -c '{awsvpcConfiguration: {subnets: .privateSubnetIds, securityGroups: .workerSecurityGroupIds,
  assignPublicIp: "DISABLED"}}' "$outputs")

fail() {
  echo "::error::$*"
  exit 1
}

primary=$(aws ecs describe-services --cluster "$cluster" --services "$service" --output json |
  jq -c '.services[0].deployments[] | select(.status == "PRIMARY")')
running=$(jq -r '.taskDefinition' <<<"$primary")
state=$(jq -r '.rolloutState // "UNKNOWN"' <<<"$primary")
if [[ "$running" != "$registered" ]]; then
  fail "service $service runs $running, not the registered $registered: the deployment was rolled back ($(jq -r '.rolloutStateReason // "no reason given"' <<<"$primary"))"
fi
if [[ "$state" == "FAILED" ]]; then
  fail "the rollout of $registered failed: $(jq -r '.rolloutStateReason // "no reason given"' <<<"$primary")"
fi
echo "service $service runs $registered (rollout $state)"

overrides='{"containerOverrides":[{"name":"worker","command":["node","dist/src/main.js","--self-check"]}]}'
task=$(aws ecs run-task --cluster "$cluster" --task-definition "$registered" --launch-type FARGATE \
  --network-configuration "$network" --overrides "$overrides" --started-by verify-deploy --output json |
  jq -er '.tasks[0].taskArn') || fail "could not start a smoke task of $registered"
echo "smoke task $task started; waiting for it to stop"
# The waiter polls every 6 s for up to 10 minutes (image pull, secrets, the checks themselves).
aws ecs wait tasks-stopped --cluster "$cluster" --tasks "$task" || fail "smoke task $task did not stop within 10 minutes"

stopped=$(aws ecs describe-tasks --cluster "$cluster" --tasks "$task" --output json | jq -c '.tasks[0]')
exit_code=$(jq -r '.containers[] | select(.name == "worker") | .exitCode // "none"' <<<"$stopped")
reason=$(jq -r '"\(.stopCode // "unknown"): \(.stoppedReason // "no reason given")"' <<<"$stopped")
if [[ "$exit_code" == "none" ]]; then
  fail "smoke task $task never ran the worker ($reason)"
elif [[ "$exit_code" != "0" ]]; then
  fail "smoke task $task: --self-check ended with exit code $exit_code ($reason); its lines are in the worker's log group"
fi
echo "smoke task $task: --self-check passed"
