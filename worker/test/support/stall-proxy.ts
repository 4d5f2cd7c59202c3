import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in front of a real server (the emulator, PostgreSQL) that can be told to behave like a
 * hung network path: connections are still accepted, but nothing reaches the server and nothing comes back. This
 * is the failure a timeout must catch and a refused connection does not reproduce: the client's socket is open,
 * its request is written, and it waits for ever.
 *
 * Connections are sorted into kinds by their first bytes (`classify`), so one proxy in front of the emulator can
 * stall SQS but not S3. A connection stalled once stays stalled, as a hung connection does; only new connections
 * get through after `resume`.
 */
export interface StallProxy {
  readonly port: number;
  /** stalls every connection of these kinds (all kinds when none are named), open or new */
  stall(...kinds: string[]): void;
  /** lets new connections through again */
  resume(): void;
  /** how many connections of a kind have been stalled so far */
  stalled(kind?: string): number;
  close(): Promise<void>;
}

interface Link {
  kind: string;
  client: Socket;
  upstream?: Socket;
  dead: boolean;
}

/** The AWS SDK's SQS client speaks the JSON protocol, which names the operation in X-Amz-Target; S3 does not. */
export function awsService(firstBytes: Buffer): string {
  return /\r\nx-amz-target: *AmazonSQS\./i.test(firstBytes.toString('latin1')) ? 'sqs' : 's3';
}

export async function startStallProxy(
  target: { host?: string; port: number },
  classify: (firstBytes: Buffer) => string = () => 'all',
): Promise<StallProxy> {
  const links = new Set<Link>();
  let stalledKinds: Set<string> | 'all' | undefined;
  const counts = new Map<string, number>();
  const isStalled = (kind: string) =>
    stalledKinds === 'all' || (stalledKinds !== undefined && stalledKinds.has(kind));

  function kill(link: Link) {
    if (link.dead) return;
    link.dead = true;
    counts.set(link.kind, (counts.get(link.kind) ?? 0) + 1);
    // Swallow whatever the client sends from now on and never answer; the server side simply goes away.
    link.upstream?.destroy();
    link.client.removeAllListeners('data');
    link.client.on('data', () => undefined);
    link.client.resume();
  }

  function forward(from: Socket, to: Socket, link: Link) {
    from.on('data', (chunk: Buffer) => {
      if (link.dead) return;
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    });
  }

  // HTTP and PostgreSQL clients both speak first, so a connection's kind is known before anything is forwarded.
  const server: Server = createServer((client) => {
    client.on('error', () => undefined);
    client.once('data', (first: Buffer) => {
      const link: Link = { kind: classify(first), client, dead: false };
      links.add(link);
      client.once('close', () => {
        links.delete(link);
        link.upstream?.destroy();
      });
      if (isStalled(link.kind)) return kill(link);
      const upstream = connect(target.port, target.host ?? '127.0.0.1');
      link.upstream = upstream;
      upstream.on('error', () => client.destroy());
      upstream.once('close', () => {
        if (!link.dead) client.end();
      });
      upstream.write(first);
      forward(client, upstream, link);
      forward(upstream, client, link);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('proxy has no port');

  return {
    port: address.port,
    stall(...kinds) {
      stalledKinds = kinds.length === 0 ? 'all' : new Set(kinds);
      for (const link of links) if (isStalled(link.kind)) kill(link);
    },
    resume() {
      stalledKinds = undefined;
    },
    stalled: (kind) =>
      kind === undefined ? [...counts.values()].reduce((a, b) => a + b, 0) : (counts.get(kind) ?? 0),
    async close() {
      for (const link of links) {
        link.client.destroy();
        link.upstream?.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
