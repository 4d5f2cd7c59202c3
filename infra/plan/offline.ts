// Runs the Pulumi program without an engine, AWS account or CLI: Pulumi's mock runtime answers every resource
// registration with plausible cloud attributes (ARNs, URLs, ids) and records what the program asked for, with
// its resource options. `npm run plan` and the tests both inspect those recorded inputs.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as pulumi from '@pulumi/pulumi';
import { parse } from 'yaml';

export interface RecordedResource {
  urn: string;
  type: string;
  name: string;
  /** The id the (mock) provider assigned. */
  id: string;
  /** Inputs exactly as the provider would receive them (Outputs resolved). */
  inputs: Record<string, unknown>;
  /** false for component resources (ours). */
  custom: boolean;
  parentUrn: string | undefined;
  protect: boolean;
  retainOnDelete: boolean;
  /** As the engine passes them to the provider, e.g. `{ update: '75m' }`. */
  customTimeouts: { create?: string; update?: string; delete?: string };
  ignoreChanges: string[];
  dependsOn: string[];
}

/** Answers a data-source invoke (`aws:ecr/getImages:getImages`, …) with the provider's output properties. */
export type InvokeAnswer = (inputs: Record<string, unknown>) => Record<string, unknown>;

export interface OfflineOptions {
  project: string;
  stack: string;
  /** Stack config as the engine passes it: `project:key` → string (structured values JSON-encoded). */
  config: Record<string, string>;
  /** @default '123456789012' */
  accountId?: string;
  /** Scripted answers that replace the built-in ones, by invoke token: what the cloud already holds. */
  invokes?: Record<string, InvokeAnswer>;
  /** The existing VPC that brownfield lookups describe. @default a healthy VPC (see HEALTHY_VPC) */
  vpc?: Partial<OfflineVpc>;
}

/**
 * What the data-source lookups of an existing VPC answer: its CIDRs, DNS attributes, which subnets ride on its
 * main route table (every other subnet has a route table of its own) and the VPC endpoints it already has.
 */
export interface OfflineVpc {
  /** Associated IPv4 CIDR blocks, the primary first. */
  cidrBlocks: string[];
  enableDnsSupport: boolean;
  enableDnsHostnames: boolean;
  /** Subnets with no explicit route table association, so on the main route table. */
  subnetsOnMainRouteTable: string[];
  endpoints: OfflineVpcEndpoint[];
}

export interface OfflineVpcEndpoint {
  id: string;
  /** e.g. `com.amazonaws.us-east-1.sqs` */
  serviceName: string;
  vpcEndpointType: 'Interface' | 'Gateway';
  privateDnsEnabled: boolean;
  /** Gateway endpoints: the route tables that carry its prefix-list route. */
  routeTableIds?: string[];
  /** Interface endpoints: one network interface in each. */
  subnetIds?: string[];
  tags?: Record<string, string>;
}

export const HEALTHY_VPC: OfflineVpc = {
  cidrBlocks: ['10.0.0.0/16'],
  enableDnsSupport: true,
  enableDnsHostnames: true,
  subnetsOnMainRouteTable: [],
  endpoints: [],
};

/** The route table the offline cloud gives a subnet that has an explicit association. */
export const routeTableOf = (subnetId: string): string => fakeId('rtb', subnetId);
export const mainRouteTableOf = (vpcId: string): string => fakeId('rtb', `${vpcId}/main`);
/** The S3 prefix list (us-east-1's real id) the offline cloud reports in every region. */
export const S3_PREFIX_LIST_ID = 'pl-63a5400a';

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
  program: () => T | Promise<T>,
  options: OfflineOptions,
): Promise<OfflineRun<Resolved<T>>> {
  const accountId = options.accountId ?? '123456789012';
  const region = regionFromConfig(options.config);
  const cloud = new OfflineCloud(accountId, region, { ...HEALTHY_VPC, ...options.vpc }, options.invokes);
  await pulumi.runtime.setMocks(cloud, options.project, options.stack, false);
  pulumi.runtime.setAllConfig(options.config);
  cloud.captureOptions(pulumi.runtime.getMonitor() as unknown as MonitorLike);
  const outputs = await failOnUnhandledRejection(async () => {
    try {
      // An async program (the stack's default export) settles first, as the language host awaits it: a
      // SettingsError it throws rejects this run once, not every Output derived from its promise.
      return await unwrap(pulumi.output(await program()));
    } finally {
      // Waits for every registration still in flight (those whose inputs resolved after the outputs did).
      await pulumi.runtime.disconnect();
    }
  });
  return { resources: cloud.recorded(), outputs: outputs as Resolved<T>, accountId, region };
}

export interface ProjectRun<T> extends OfflineRun<T> {
  /** The working directory the engine gives the program and every provider plugin it starts. */
  pwd: string;
}

/**
 * Runs a Pulumi project the way `pulumi preview` does, under the mocks: reads `Pulumi.yaml`, makes `main` the
 * working directory (pkg/engine/project.go getPwdMain: a directory `main` becomes pwd; pkg/engine/deployment.go
 * hands that pwd to every plugin, which sdk/go/common/resource/plugin/plugin.go starts with `cmd.Dir = pwd`),
 * imports the entry module as Node's language host does and calls its default export. Relative paths in
 * resource inputs (a docker-build context, a Dockerfile, an asset) are resolved by the providers against `pwd`.
 */
export async function runProject(
  projectDir: string,
  options: Omit<OfflineOptions, 'project'>,
): Promise<ProjectRun<Record<string, unknown>>> {
  const project = parse(readFileSync(path.join(projectDir, 'Pulumi.yaml'), 'utf8')) as {
    name: string;
    main?: string;
  };
  const { pwd, entry } = programLocation(projectDir, project.main);
  const previous = process.cwd();
  process.chdir(pwd);
  try {
    const module = (await import(pathToFileURL(entry).href)) as { default?: unknown };
    const program =
      typeof module.default === 'function'
        ? (module.default as () => Outputs | Promise<Outputs>)
        : () => (module.default ?? {}) as Outputs;
    const run = await runOffline(program, { ...options, project: project.name });
    return { ...run, pwd };
  } finally {
    process.chdir(previous);
  }
}

/** The engine's pwd for `main` and the file Node's `require(pwd)` would load (package.json `main`, else index). */
export function programLocation(
  projectDir: string,
  main: string | undefined,
): { pwd: string; entry: string } {
  const target = path.resolve(projectDir, main ?? '.');
  if (path.relative(projectDir, target).startsWith('..')) {
    throw new Error("project 'main' must be a subfolder");
  }
  if (!statSync(target).isDirectory()) return { pwd: path.dirname(target), entry: target };
  const manifest = path.join(target, 'package.json');
  const declared = statSync(manifest, { throwIfNoEntry: false })
    ? (JSON.parse(readFileSync(manifest, 'utf8')) as { main?: string }).main
    : undefined;
  // tsx resolves `index.js` to the TypeScript source, as the program's `nodeargs: --import tsx` does.
  return { pwd: target, entry: path.resolve(target, declared ?? 'index.ts') };
}

/**
 * Runs `body` as Pulumi's language host runs a program: an unhandled rejection, which is how a failed Output
 * (a SettingsError thrown in an apply) ends a real preview, fails the run instead of escaping it
 * (pulumi/pulumi sdk/nodejs/cmd/run/run.ts, `uncaughtHandler`).
 */
async function failOnUnhandledRejection<T>(body: () => Promise<T>): Promise<T> {
  const others = process.listeners('unhandledRejection');
  const reasons: unknown[] = [];
  const record = (reason: unknown) => reasons.push(reason);
  process.removeAllListeners('unhandledRejection');
  process.on('unhandledRejection', record);
  try {
    const result = await body();
    // Node reports a rejection as unhandled only once the microtasks of its turn have run.
    await new Promise((resolve) => setImmediate(resolve));
    if (reasons.length > 0) throw reasons[0];
    return result;
  } finally {
    process.off('unhandledRejection', record);
    for (const listener of others) process.on('unhandledRejection', listener);
  }
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
  getRetainondelete(): boolean | undefined;
  getCustomtimeouts(): { getCreate(): string; getUpdate(): string; getDelete(): string } | undefined;
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
  retainOnDelete: boolean;
  customTimeouts: RecordedResource['customTimeouts'];
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
    readonly vpc: OfflineVpc = HEALTHY_VPC,
    private readonly invokes: Record<string, InvokeAnswer> = {},
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
        retainOnDelete: req.getRetainondelete() ?? false,
        customTimeouts: timeouts(req.getCustomtimeouts()),
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
    const scripted = this.invokes[args.token];
    if (scripted) return scripted(inputs);
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
      case 'aws:ecr/getImages:getImages':
        return {
          id: String(inputs['repositoryName']),
          repositoryName: inputs['repositoryName'],
          imageIds: [],
        };
      case 'aws:ecr/getAuthorizationToken:getAuthorizationToken':
        return {
          id: region,
          userName: 'AWS',
          password: 'offline-ecr-token',
          authorizationToken: Buffer.from('AWS:offline-ecr-token').toString('base64'),
          proxyEndpoint: `https://${accountId}.dkr.ecr.${region}.amazonaws.com`,
          expiresAt: '2099-01-01T00:00:00Z',
        };
      case 'aws:ec2/getPrefixList:getPrefixList':
        return {
          id: S3_PREFIX_LIST_ID,
          prefixListId: S3_PREFIX_LIST_ID,
          name: inputs['name'],
          cidrBlocks: ['52.216.0.0/15'],
        };
      default:
        return this.describeVpc(args.token, inputs);
    }
  }

  /** The existing VPC's lookups, answered from `this.vpc` with the provider's output property names. */
  private describeVpc(token: string, inputs: Record<string, unknown>): Record<string, unknown> {
    const { vpc, accountId, region } = this;
    const filter = filters(inputs);
    const interfaces = vpc.endpoints.flatMap((e) =>
      (e.subnetIds ?? []).map((subnetId) => ({
        id: fakeId('eni', `${e.id}/${subnetId}`),
        subnetId,
        endpoint: e,
      })),
    );
    switch (token) {
      case 'aws:ec2/getVpc:getVpc': {
        const id = String(inputs['id']);
        return {
          id,
          arn: `arn:aws:ec2:${region}:${accountId}:vpc/${id}`,
          cidrBlock: vpc.cidrBlocks[0],
          cidrBlockAssociations: vpc.cidrBlocks.map((cidrBlock) => ({
            associationId: fakeId('vpc-cidr-assoc', cidrBlock),
            cidrBlock,
            state: 'associated',
          })),
          enableDnsSupport: vpc.enableDnsSupport,
          enableDnsHostnames: vpc.enableDnsHostnames,
          mainRouteTableId: mainRouteTableOf(id),
          ownerId: accountId,
          state: 'available',
          default: false,
          tags: {},
        };
      }
      case 'aws:ec2/getRouteTables:getRouteTables': {
        // Only the filters the program sends; like EC2, each filter narrows the result.
        let ids = (filter['association.subnet-id'] ?? [])
          .filter((s) => !vpc.subnetsOnMainRouteTable.includes(s))
          .map(routeTableOf);
        const only = filter['route-table-id'];
        if (only) ids = [...ids, ...only].filter((id) => only.includes(id));
        const prefixLists = filter['route.destination-prefix-list-id'];
        if (prefixLists) {
          const routed = vpc.endpoints
            .filter((e) => e.vpcEndpointType === 'Gateway' && prefixLists.includes(this.prefixListOf(e)))
            .flatMap((e) => e.routeTableIds ?? []);
          ids = ids.filter((id) => routed.includes(id));
        }
        return { id: region, ids: [...new Set(ids)], tags: {} };
      }
      case 'aws:ec2/getNetworkInterfaces:getNetworkInterfaces':
        return {
          id: region,
          ids: (filter['description'] ?? []).some((d) => d.startsWith('VPC Endpoint Interface'))
            ? interfaces.map((i) => i.id)
            : [],
          tags: {},
        };
      case 'aws:ec2/getNetworkInterface:getNetworkInterface': {
        const eni = interfaces.find((i) => i.id === inputs['id']);
        if (!eni) throw providerError(`no matching EC2 Network Interface found`);
        return {
          id: eni.id,
          description: `VPC Endpoint Interface ${eni.endpoint.id}`,
          interfaceType: 'vpc_endpoint',
          subnetId: eni.subnetId,
          requesterId: 'AROAOFFLINE',
          tags: {},
        };
      }
      case 'aws:ec2/getVpcEndpoint:getVpcEndpoint': {
        const wanted = inputs['tags'] as Record<string, string> | undefined;
        const found = vpc.endpoints.filter(
          (e) =>
            [inputs['id'] ?? e.id].includes(e.id) &&
            [inputs['serviceName'] ?? e.serviceName].includes(e.serviceName) &&
            [inputs['vpcEndpointType'] ?? e.vpcEndpointType].includes(e.vpcEndpointType) &&
            Object.entries(wanted ?? {}).every(([k, v]) => e.tags?.[k] === v),
        );
        // The provider's own messages (tfresource.SingularDataSourceFindError).
        if (found.length === 0) throw providerError('no matching EC2 VPC Endpoint found');
        if (found.length > 1) throw providerError('multiple EC2 VPC Endpoints matched');
        const e = found[0] as OfflineVpcEndpoint;
        return {
          id: e.id,
          arn: `arn:aws:ec2:${region}:${accountId}:vpc-endpoint/${e.id}`,
          serviceName: e.serviceName,
          vpcEndpointType: e.vpcEndpointType,
          privateDnsEnabled: e.privateDnsEnabled,
          routeTableIds: e.routeTableIds ?? [],
          subnetIds: e.subnetIds ?? [],
          networkInterfaceIds: interfaces.filter((i) => i.endpoint === e).map((i) => i.id),
          prefixListId: this.prefixListOf(e),
          state: 'available',
          tags: e.tags ?? {},
        };
      }
      default:
        throw new Error(`the offline runtime has no answer for ${token}; add one to infra/plan/offline.ts`);
    }
  }

  private prefixListOf(e: OfflineVpcEndpoint): string {
    return e.serviceName === `com.amazonaws.${this.region}.s3` ? S3_PREFIX_LIST_ID : '';
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
        return { id: fakeId('vpce', name), prefixListId: S3_PREFIX_LIST_ID };
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
      case 'docker-build:index:Image': {
        const digest = `sha256:${createHash('sha256').update(JSON.stringify(inputs)).digest('hex')}`;
        const [tag] = (inputs['tags'] as string[] | undefined) ?? [];
        return { id: digest, digest, ref: `${tag?.replace(/:[^:/]+$/, '') ?? name}@${digest}` };
      }
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
      case 'aws:lambda/function:Function':
        return { id: physical, arn: `arn:aws:lambda:${region}:${acct}:function:${physical}` };
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

function timeouts(t: ReturnType<RegisterRequest['getCustomtimeouts']>): RecordedResource['customTimeouts'] {
  const entries = Object.entries({ create: t?.getCreate(), update: t?.getUpdate(), delete: t?.getDelete() });
  return Object.fromEntries(entries.filter(([, v]) => v));
}

/**
 * The engine's URN: the parent's whole type chain, then the type and name (Pulumi's MockMonitor keeps only the
 * parent's last type, so dependency URNs it reports differ for resources nested two components deep).
 */
function urnOf(parentUrn: string | undefined, type: string, name: string): string {
  const parentType = parentUrn?.split('::')[2];
  const qualified = parentType ? `${parentType}$${type}` : type;
  return `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::${qualified}::${name}`;
}

function filters(inputs: Record<string, unknown>): Record<string, string[]> {
  const list = (inputs['filters'] ?? []) as { name: string; values: string[] }[];
  return Object.fromEntries(list.map((f) => [f.name, f.values]));
}

/** A failed invoke as the engine reports it: the SDK rethrows the gRPC error's `details`. */
export function providerError(message: string): Error {
  return Object.assign(new Error(message), { details: message });
}

function fakeId(prefix: string, seed: string): string {
  return `${prefix}-${createHash('sha256').update(seed).digest('hex').slice(0, 17)}`;
}
