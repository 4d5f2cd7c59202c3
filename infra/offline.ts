// Runs the Pulumi program without an engine, AWS account or CLI: Pulumi's mock runtime answers every resource
// registration with plausible cloud attributes (ARNs, URLs, ids) and records what the program asked for, with
// its resource options. `npm run plan` and the tests both inspect those recorded inputs.
import { createHash } from 'node:crypto';
import * as pulumi from '@pulumi/pulumi';

export interface RecordedResource {
  urn: string;
  type: string;
  name: string;
  /** The id the (mock) provider assigned. */
  id: string;
  /** Inputs exactly as the provider would receive them (Outputs resolved). */
  inputs: Record<string, unknown>;
  /** false for component resources (ours and remote ones such as awsx.ecr.Image). */
  custom: boolean;
  parentUrn: string | undefined;
  protect: boolean;
  ignoreChanges: string[];
  dependsOn: string[];
}

export interface OfflineOptions {
  project: string;
  stack: string;
  /** Stack config as the engine passes it: `project:key` → string (structured values JSON-encoded). */
  config: Record<string, string>;
  /** @default '123456789012' */
  accountId?: string;
}

export interface OfflineRun<T> {
  resources: RecordedResource[];
  outputs: T;
  accountId: string;
  region: string;
}

type Outputs = Record<string, pulumi.Input<unknown>>;
type Resolved<T extends Outputs> = { [K in keyof T]: pulumi.Unwrap<T[K]> };

/** Runs `program` under mocks and returns every registered resource and the resolved stack outputs. */
export async function runOffline<T extends Outputs>(
  program: () => T,
  options: OfflineOptions,
): Promise<OfflineRun<Resolved<T>>> {
  const accountId = options.accountId ?? '123456789012';
  const region = regionFromConfig(options.config);
  const cloud = new OfflineCloud(accountId, region);
  await pulumi.runtime.setMocks(cloud, options.project, options.stack, false);
  pulumi.runtime.setAllConfig(options.config);
  cloud.captureOptions(pulumi.runtime.getMonitor() as unknown as MonitorLike);
  let outputs: unknown;
  try {
    outputs = await unwrap(pulumi.output(program()));
  } finally {
    // Waits for every registration still in flight (those whose inputs resolved after the outputs did).
    await pulumi.runtime.disconnect();
  }
  return { resources: cloud.recorded(), outputs: outputs as Resolved<T>, accountId, region };
}

function regionFromConfig(config: Record<string, string>): string {
  const region = config['aws:region'];
  if (!region) throw new Error('aws:region is not set in the stack config');
  return region;
}

/** Awaits an Output, failing instead of hanging when the Output rejects. */
function unwrap<T>(output: pulumi.Output<T>): Promise<T> {
  // `promise()` is the SDK's own way to await an Output (used by its test helpers); apply() would never
  // call back on a rejected Output.
  return (output as unknown as { promise(): Promise<T> }).promise();
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getProtect(): boolean;
  getIgnorechangesList(): string[];
  getDependenciesList(): string[];
}
interface MonitorLike {
  registerResource(req: RegisterRequest, callback: unknown): Promise<void>;
}

interface CapturedOptions {
  urn: string;
  parentUrn: string | undefined;
  protect: boolean;
  ignoreChanges: string[];
  dependsOn: string[];
}

export class OfflineCloud implements pulumi.runtime.Mocks {
  private readonly registrations: {
    type: string;
    name: string;
    id: string;
    inputs: Record<string, unknown>;
    custom: boolean;
  }[] = [];
  private readonly options = new Map<string, CapturedOptions>();

  constructor(
    readonly accountId: string,
    readonly region: string,
  ) {}

  /** The mock's `newResource` sees no resource options, so read them off the registration request. */
  captureOptions(monitor: MonitorLike): void {
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, callback) => {
      const parentUrn = req.getParent() || undefined;
      const type = req.getType();
      const name = req.getName();
      this.options.set(key(type, name), {
        urn: urnOf(parentUrn, type, name),
        parentUrn,
        protect: req.getProtect(),
        ignoreChanges: req.getIgnorechangesList(),
        dependsOn: req.getDependenciesList(),
      });
      return register(req, callback);
    };
  }

  recorded(): RecordedResource[] {
    return this.registrations.map((r) => {
      const o = this.options.get(key(r.type, r.name));
      if (!o) throw new Error(`no registration options captured for ${r.type} ${r.name}`);
      return { ...r, ...o };
    });
  }

  newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
    const inputs = (args.inputs ?? {}) as Record<string, unknown>;
    const { id, ...attributes } = this.attributes(args.type, args.name, inputs);
    this.registrations.push({ type: args.type, name: args.name, id, inputs, custom: args.custom ?? true });
    return { id, state: { ...inputs, ...attributes } };
  }

  call(args: pulumi.runtime.MockCallArgs): pulumi.runtime.MockCallResult {
    const { accountId, region } = this;
    const inputs = (args.inputs ?? {}) as Record<string, unknown>;
    switch (args.token) {
      case 'aws:index/getCallerIdentity:getCallerIdentity':
        return {
          id: accountId,
          accountId,
          arn: `arn:aws:sts::${accountId}:assumed-role/offline-plan/offline`,
          userId: 'AROAOFFLINE:offline',
        };
      case 'aws:index/getRegion:getRegion':
        return {
          id: region,
          name: region,
          region,
          endpoint: `ec2.${region}.amazonaws.com`,
          description: region,
        };
      case 'aws:index/getAvailabilityZones:getAvailabilityZones': {
        const names = ['a', 'b', 'c', 'd', 'e', 'f'].map((s) => `${region}${s}`);
        return { id: region, names, zoneIds: names.map((_, i) => `use1-az${i + 1}`), groupNames: [region] };
      }
      case 'aws:ec2/getRouteTable:getRouteTable':
        return {
          id: fakeId('rtb', String(inputs['subnetId'])),
          routeTableId: fakeId('rtb', String(inputs['subnetId'])),
        };
      case 'aws:ec2/getPrefixList:getPrefixList':
        return {
          id: 'pl-63a5400a',
          prefixListId: 'pl-63a5400a',
          name: inputs['name'],
          cidrBlocks: ['52.216.0.0/15'],
        };
      default:
        throw new Error(`the offline runtime has no answer for ${args.token}; add one to infra/offline.ts`);
    }
  }

  /** Cloud-assigned attributes a real provider would return, derived from the inputs. */
  private attributes(
    type: string,
    name: string,
    inputs: Record<string, unknown>,
  ): Record<string, unknown> & { id: string } {
    const { accountId: acct, region } = this;
    const physical = typeof inputs['name'] === 'string' ? inputs['name'] : name;
    switch (type) {
      case 'aws:sqs/queue:Queue': {
        const url = `https://sqs.${region}.amazonaws.com/${acct}/${physical}`;
        return { id: url, url, arn: `arn:aws:sqs:${region}:${acct}:${physical}` };
      }
      case 'aws:iam/role:Role':
        return {
          id: physical,
          arn: `arn:aws:iam::${acct}:role/${physical}`,
          uniqueId: fakeId('AROA', physical),
        };
      case 'aws:iam/policy:Policy':
        return {
          id: `arn:aws:iam::${acct}:policy/${physical}`,
          arn: `arn:aws:iam::${acct}:policy/${physical}`,
        };
      case 'aws:iam/openIdConnectProvider:OpenIdConnectProvider': {
        const host = String(inputs['url']).replace(/^https:\/\//, '');
        const arn = `arn:aws:iam::${acct}:oidc-provider/${host}`;
        return { id: arn, arn };
      }
      case 'aws:ec2/vpc:Vpc':
        return { id: fakeId('vpc', name), arn: `arn:aws:ec2:${region}:${acct}:vpc/${fakeId('vpc', name)}` };
      case 'aws:ec2/subnet:Subnet':
        return { id: fakeId('subnet', name) };
      case 'aws:ec2/securityGroup:SecurityGroup':
        return { id: fakeId('sg', name) };
      case 'aws:ec2/vpcEndpoint:VpcEndpoint':
        return { id: fakeId('vpce', name), prefixListId: 'pl-63a5400a' };
      case 'aws:ec2/routeTable:RouteTable':
        return { id: fakeId('rtb', name) };
      case 'aws:ec2/internetGateway:InternetGateway':
        return { id: fakeId('igw', name) };
      case 'aws:ec2/natGateway:NatGateway':
        return { id: fakeId('nat', name) };
      case 'aws:ec2/eip:Eip':
        return { id: fakeId('eipalloc', name), publicIp: '203.0.113.10' };
      case 'aws:cloudwatch/logGroup:LogGroup':
        return { id: physical, arn: `arn:aws:logs:${region}:${acct}:log-group:${physical}` };
      case 'aws:ecr/repository:Repository':
        return {
          id: physical,
          arn: `arn:aws:ecr:${region}:${acct}:repository/${physical}`,
          registryId: acct,
          repositoryUrl: `${acct}.dkr.ecr.${region}.amazonaws.com/${physical}`,
        };
      case 'awsx:ecr:Image':
        return {
          id: '',
          imageUri: `${String(inputs['repositoryUrl'])}@sha256:${createHash('sha256').update(JSON.stringify(inputs)).digest('hex')}`,
        };
      case 'aws:ecs/cluster:Cluster':
        return {
          id: `arn:aws:ecs:${region}:${acct}:cluster/${physical}`,
          arn: `arn:aws:ecs:${region}:${acct}:cluster/${physical}`,
        };
      case 'aws:ecs/taskDefinition:TaskDefinition': {
        const family = String(inputs['family']);
        const arn = `arn:aws:ecs:${region}:${acct}:task-definition/${family}:1`;
        return { id: family, arn, arnWithoutRevision: arn.replace(/:1$/, ''), revision: 1 };
      }
      case 'aws:ecs/service:Service': {
        const cluster = String(inputs['cluster']).split('/').pop() ?? '';
        return { id: `arn:aws:ecs:${region}:${acct}:service/${cluster}/${physical}` };
      }
      case 'aws:sns/topic:Topic':
        return {
          id: `arn:aws:sns:${region}:${acct}:${physical}`,
          arn: `arn:aws:sns:${region}:${acct}:${physical}`,
        };
      case 'aws:cloudwatch/metricAlarm:MetricAlarm':
        return { id: physical, arn: `arn:aws:cloudwatch:${region}:${acct}:alarm:${physical}` };
      case 'aws:cloudwatch/dashboard:Dashboard':
        return {
          id: String(inputs['dashboardName']),
          dashboardArn: `arn:aws:cloudwatch::${acct}:dashboard/${String(inputs['dashboardName'])}`,
        };
      default:
        return {
          id: `${name}-id`,
          arn: `arn:aws:${type.split(':')[1]?.split('/')[0] ?? 'x'}:${region}:${acct}:${name}`,
        };
    }
  }
}

const key = (type: string, name: string): string => `${type}::${name}`;

/**
 * The engine's URN: the parent's whole type chain, then the type and name (Pulumi's MockMonitor keeps only the
 * parent's last type, so dependency URNs it reports differ for resources nested two components deep).
 */
function urnOf(parentUrn: string | undefined, type: string, name: string): string {
  const parentType = parentUrn?.split('::')[2];
  const qualified = parentType ? `${parentType}$${type}` : type;
  return `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::${qualified}::${name}`;
}

function fakeId(prefix: string, seed: string): string {
  return `${prefix}-${createHash('sha256').update(seed).digest('hex').slice(0, 17)}`;
}
