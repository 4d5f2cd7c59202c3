// Adopting the existing system's resources: a `pulumi import --file` document for the resources the existing
// Terraform/hand-made setup already has under the same names (lessons §E), built from the offline plan so every
// logical name, type and parent matches the program exactly. Pulumi (≥ 3.94) creates the empty component parents
// listed with `component: true` and imports the children under them.
import type { RecordedResource } from './offline.js';

export interface ImportEntry {
  /** Key of this entry inside the file (parents refer to it); the URN, which is unique. */
  name: string;
  logicalName: string;
  type: string;
  id?: string;
  parent?: string;
  component?: true;
}

/** How the existing resources are identified (the provider's import id), by type. */
const IMPORT_ID: Record<string, (r: RecordedResource, ctx: { accountId: string; region: string }) => string> =
  {
    'aws:sqs/queue:Queue': (r, c) =>
      `https://sqs.${c.region}.amazonaws.com/${c.accountId}/${String(r.inputs['name'])}`,
    'aws:iam/role:Role': (r) => String(r.inputs['name']),
    'aws:ecs/cluster:Cluster': (r) => String(r.inputs['name']),
    'aws:ecs/service:Service': (r) =>
      `${String(r.inputs['cluster']).split('/').pop() ?? ''}/${String(r.inputs['name'])}`,
    'aws:cloudwatch/logGroup:LogGroup': (r) => String(r.inputs['name']),
    'aws:sns/topic:Topic': (r, c) => `arn:aws:sns:${c.region}:${c.accountId}:${String(r.inputs['name'])}`,
    'aws:iam/openIdConnectProvider:OpenIdConnectProvider': (r, c) =>
      `arn:aws:iam::${c.accountId}:oidc-provider/${String(r.inputs['url']).replace(/^https:\/\//, '')}`,
  };

/** Existing resources only: the worker's new repository, endpoints, alarms and policies are created, not adopted. */
const EXISTING = new Set([
  'predictions-queue',
  'predictions-dlq',
  'task-roles-worker',
  'task-roles-backend',
  'worker-execution',
  'worker-cluster',
  'worker-service',
  'worker-logs',
  'backend-service',
  'backend-logs',
  'alarms-topic',
  'github-deploy',
  'github-provider',
]);

/** Whether the import file adopts `r`: an existing resource the program would otherwise try to create. */
export const isAdopted = (r: RecordedResource): boolean =>
  r.custom && EXISTING.has(r.name) && IMPORT_ID[r.type] !== undefined;

export function adoptionImportFile(
  resources: RecordedResource[],
  ctx: { accountId: string; region: string },
): { resources: ImportEntry[] } {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const adopted = resources.filter(isAdopted);
  const parents = new Map<string, RecordedResource>();
  for (const r of adopted) {
    for (
      let p = r.parentUrn && byUrn.get(r.parentUrn);
      p;
      p = p.parentUrn ? byUrn.get(p.parentUrn) : undefined
    ) {
      parents.set(p.urn, p);
    }
  }
  const entry = (r: RecordedResource): ImportEntry => ({
    name: r.urn,
    logicalName: r.name,
    type: r.type,
    ...(r.parentUrn ? { parent: r.parentUrn } : {}),
  });
  return {
    resources: [
      // Parents before children, outermost first.
      ...[...parents.values()]
        .sort((a, b) => depth(a) - depth(b))
        .map((p) => ({ ...entry(p), component: true as const })),
      ...adopted.map((r) => ({ ...entry(r), id: (IMPORT_ID[r.type] as (typeof IMPORT_ID)[string])(r, ctx) })),
    ],
  };
}

/** Nesting depth of a resource: the number of types in its URN's type chain. */
const depth = (r: RecordedResource) => (r.urn.split('::')[2] ?? '').split('$').length;
