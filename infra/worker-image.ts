// The worker image: built from worker/ with docker-build and pushed to the worker's own ECR repository under a
// release tag that hashes the build's inputs (see image-tag.ts), or run from ECR when that tag is already there.
import path from 'node:path';
import * as aws from '@pulumi/aws';
import * as dockerBuild from '@pulumi/docker-build';
import * as pulumi from '@pulumi/pulumi';
import type { CpuArchitecture } from './fargate-service.js';
import { imageTag } from './image-tag.js';

/** The repository root: the Pulumi project directory and the worker image's build context. */
const REPOSITORY_ROOT = path.resolve(import.meta.dirname, '..');
/** The one tag that is pushed again on every build (BuildKit's registry cache): excluded from immutability. */
export const BUILD_CACHE_TAG_PREFIX = 'buildcache-';
/** Release tags (see imageTag): immutable, and what the lifecycle policy counts. */
const RELEASE_TAG_PREFIX = 'src-';

/** An image ECR holds: `ListImages` of the worker repository (aws.ecr.getImages). */
export interface PushedImage {
  imageTag?: string | undefined;
  imageDigest?: string | undefined;
}

/**
 * The images in the worker repository, looked up before the build is planned. A repository that does not exist yet
 * (the first preview) holds none; any other failure (permissions, throttling) stops the run.
 */
export async function pushedImages(repositoryName: string): Promise<PushedImage[]> {
  try {
    return (await aws.ecr.getImages({ repositoryName })).imageIds;
  } catch (error) {
    if (/RepositoryNotFoundException/.test(String(error))) return [];
    throw error;
  }
}

/**
 * ECR lifecycle: untagged leftovers (superseded build-cache manifests, failed pushes) go after a week; the newest
 * release images are kept as rollback targets. It is the only thing that ever removes a pushed image.
 */
export function ecrLifecyclePolicy(imagesToKeep: number): string {
  return JSON.stringify({
    rules: [
      {
        rulePriority: 1,
        description: 'Expire untagged images (superseded build caches, failed pushes) after 7 days',
        selection: {
          tagStatus: 'untagged',
          countType: 'sinceImagePushed',
          countUnit: 'days',
          countNumber: 7,
        },
        action: { type: 'expire' },
      },
      {
        rulePriority: 2,
        description: `Keep the ${imagesToKeep} newest release images`,
        selection: {
          tagStatus: 'tagged',
          tagPrefixList: [RELEASE_TAG_PREFIX],
          countType: 'imageCountMoreThan',
          countNumber: imagesToKeep,
        },
        action: { type: 'expire' },
      },
    ],
  });
}

export const dockerPlatform = (architecture: CpuArchitecture): dockerBuild.Platform =>
  architecture === 'ARM64' ? 'linux/arm64' : 'linux/amd64';

export interface WorkerImageBuild {
  /** Absolute paths. */
  context: string;
  dockerfile: string;
  platform: dockerBuild.Platform;
  cacheTag: string;
  /** `src-<hash of all the above and the context's files>-<cpu>`. */
  tag: string;
}

export function workerImageBuild(s: {
  buildContext: string;
  dockerfile: string;
  cpuArchitecture: CpuArchitecture;
}): WorkerImageBuild {
  const arch = s.cpuArchitecture.toLowerCase();
  const context = path.resolve(REPOSITORY_ROOT, s.buildContext);
  const dockerfile = path.resolve(REPOSITORY_ROOT, s.dockerfile);
  const platform = dockerPlatform(s.cpuArchitecture);
  const cacheTag = `${BUILD_CACHE_TAG_PREFIX}${arch}`;
  const tag = `${imageTag({ context, dockerfile, settings: { platform, cacheTag } })}-${arch}`;
  return { context, dockerfile, platform, cacheTag, tag };
}

/**
 * Builds and pushes the worker image, or runs the one ECR already holds for the same build. docker-build
 * directly, not awsx.ecr.Image: awsx names its docker-build child after the tag, so every new tag deleted the
 * previous child, and docker-build's Delete removes the pushed manifests (pulumi-docker-build
 * provider/internal/image.go Delete) that a rollback, or the deployment circuit breaker, would pull.
 */
export function buildAndPush(
  name: string,
  repository: aws.ecr.Repository,
  build: WorkerImageBuild,
  pushed: PushedImage[],
  parent: pulumi.Resource,
): pulumi.Output<string> {
  const { tag, context, dockerfile, platform, cacheTag } = build;
  const repositoryUrl = repository.repositoryUrl;
  const existing = pushed.find((p) => p.imageTag === tag)?.imageDigest;
  if (existing) return pulumi.interpolate`${repositoryUrl}@${existing}`;

  const token = aws.ecr.getAuthorizationTokenOutput({ registryId: repository.registryId }, { parent });
  const cache = pulumi.interpolate`${repositoryUrl}:${cacheTag}`;
  const image = new dockerBuild.Image(
    `${name}-image`,
    {
      tags: [pulumi.interpolate`${repositoryUrl}:${tag}`],
      push: true,
      // Previews need no Docker, no QEMU and no registry write; `pulumi up` builds.
      buildOnPreview: false,
      platforms: [platform],
      // Relative to the working directory the engine gives the program and the provider (Pulumi.yaml's main),
      // where docker-build resolves them; relative, so that a laptop and CI pass the same inputs.
      context: { location: path.relative(process.cwd(), context) || '.' },
      dockerfile: { location: path.relative(process.cwd(), dockerfile) },
      // ECR's BuildKit cache support needs the image-manifest form with OCI media types
      // (https://aws.amazon.com/blogs/containers/announcing-remote-cache-support-in-amazon-ecr-for-buildkit-clients/).
      cacheFrom: [{ registry: { ref: cache } }],
      cacheTo: [{ registry: { ref: cache, mode: 'max', imageManifest: true, ociMediaTypes: true } }],
      registries: [
        {
          address: repositoryUrl.apply((url) => url.split('/')[0] ?? url),
          username: token.userName,
          password: pulumi.secret(token.password),
        },
      ],
    },
    { parent, retainOnDelete: true },
  );
  return pulumi.interpolate`${repositoryUrl}@${image.digest}`;
}
