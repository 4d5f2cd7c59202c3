// The offline cloud: Pulumi's mock runtime asks it for every resource registration and data-source invoke. It
// records what the program registered, with the resource options read off the registration request, and answers
// with what AWS would hand back (cloud-attributes.ts, offline-vpc.ts).
import * as pulumi from '@pulumi/pulumi';
import { providerAttributes, S3_PREFIX_LIST_ID } from './cloud-attributes.js';
import type { InvokeAnswer, RecordedResource } from './offline.js';
import { describeVpc, HEALTHY_VPC, type OfflineVpc } from './offline-vpc.js';

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
export interface MonitorLike {
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
    const { id, ...attributes } = providerAttributes(args.type, args.name, inputs, this);
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
      default: {
        const answer = describeVpc(this.vpc, this, args.token, inputs);
        if (!answer) {
          throw new Error(
            `the offline runtime has no answer for ${args.token}; add one to infra/plan/offline-cloud.ts`,
          );
        }
        return answer;
      }
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
