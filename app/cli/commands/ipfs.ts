import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { CID } from 'multiformats/cid';
import { CustosError, fromFsError } from '../../errors/index.ts';
import {
  HeliaDatasetStore,
  IpfsClusterClient,
  KuboRpcBackend,
  PinningServiceClient,
  publishToKubo,
  vaultIpfsFolder,
} from '../../ipfs/index.ts';
import { parseCommandLine, required, type Command, type Io } from '../command.ts';
import { progressLine } from '../io.ts';
import { parseCidVersion } from './cid.ts';

const help = `usage: custos ipfs <action> … --vault DIR

The vault's embedded IPFS node (blocks under DIR/ipfs; it listens on 127.0.0.1 only and talks to no
one it is not told to).

  add FILE [--cid-version 0|1] [--no-pin] [--nocopy]
                                            import FILE (kubo-identical CID) and pin it; prints the
                                            CID. --nocopy keeps FILE's bytes where they are (CIDv1):
                                            the node reads them from FILE, which must not change
  cat CID --out FILE                        write the content (every block checked) to a new FILE
  verify CID                                check every block is present and matches its hash
  pin CID | unpin CID                       local pin
  gc                                        delete blocks no pin holds
  push CID --kubo URL                       send the blocks to a kubo node (CARs via dag/import), pin
                                            there and confirm with pin ls; resumes if interrupted
  push-cluster CID --cluster URL [--copies N | MIN-MAX] [--timeout SECONDS]
                                            send the blocks to an IPFS Cluster (a CAR) and wait
                                            until MIN peers have it pinned (default 2); REST API
                                            basic auth from CUSTOS_CLUSTER_AUTH=user:password
  pin-remote CID --service URL [--timeout SECONDS]
                                            ask an IPFS Pinning Service to pin CID (token in
                                            CUSTOS_PINNING_TOKEN); waits until pinned or failed
`;

const options = {
  vault: { type: 'string' },
  'cid-version': { type: 'string' },
  'no-pin': { type: 'boolean' },
  nocopy: { type: 'boolean' },
  out: { type: 'string' },
  kubo: { type: 'string' },
  cluster: { type: 'string' },
  copies: { type: 'string' },
  service: { type: 'string' },
  timeout: { type: 'string' },
} as const;

function parseCid(text: string | undefined): CID {
  if (text === undefined) throw new CustosError('UsageError', `expected a CID\n${help}`);
  try {
    return CID.parse(text);
  } catch {
    throw new CustosError('UsageError', `not a CID: ${text}`);
  }
}

async function withNode<T>(
  vault: string,
  listen: boolean,
  run: (node: HeliaDatasetStore) => Promise<T>,
): Promise<T> {
  const node = await HeliaDatasetStore.open({
    folder: vaultIpfsFolder(resolve(vault)),
    ...(listen ? {} : { listen: [] }),
  });
  try {
    return await run(node);
  } finally {
    await node.close();
  }
}

async function catTo(
  io: Io,
  node: HeliaDatasetStore,
  cid: CID,
  out: string | undefined,
): Promise<void> {
  if (out === undefined) throw new CustosError('UsageError', `cat needs --out FILE\n${help}`);
  const source = Readable.from(node.cat(cid, { signal: io.signal }));
  const path = resolve(out);
  if (
    await stat(path).then(
      () => true,
      () => false,
    )
  )
    throw new CustosError('OutputExists', `${path} already exists`);
  try {
    await pipeline(source, createWriteStream(path, { flags: 'wx' }));
  } catch (error) {
    throw fromFsError(error, path);
  }
}

/** `--timeout SECONDS` (default 10 minutes). */
function timeoutSeconds(value: string | undefined): number {
  const seconds = value === undefined ? 600 : Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new CustosError('UsageError', '--timeout is a number of seconds');
  return seconds;
}

export const ipfs: Command = {
  help,
  async run(argv, io) {
    const { values, positionals } = parseCommandLine(argv, options, help);
    const [action, arg, ...extra] = positionals;
    if (extra.length > 0)
      throw new CustosError('UsageError', `unexpected ${extra.join(' ')}\n${help}`);
    const vault = required(values.vault, 'vault');
    switch (action) {
      case 'add': {
        if (arg === undefined) throw new CustosError('UsageError', `expected FILE\n${help}`);
        const cidVersion = parseCidVersion(values['cid-version']);
        if (values.nocopy === true && cidVersion === 0)
          throw new CustosError(
            'UsageError',
            '--nocopy needs CIDv1: CIDv0 leaves are UnixFS nodes, not ranges of the file',
          );
        const size = await stat(resolve(arg)).then(
          (s) => s.size,
          () => undefined,
        );
        return withNode(vault, false, async (node) => {
          const progress = progressLine(io, 'Adding');
          try {
            const { cid } = await node.add(resolve(arg), {
              cidVersion,
              noCopy: values.nocopy === true,
              signal: io.signal,
              onProgress: (n) => progress.update(n, size),
            });
            if (!values['no-pin']) await node.pin(cid, { signal: io.signal });
            io.stdout.write(`${cid.toString()}\n`);
          } finally {
            progress.finish();
          }
          return 0;
        });
      }
      case 'cat': {
        const cid = parseCid(arg);
        return withNode(vault, false, async (node) => {
          await catTo(io, node, cid, values.out);
          return 0;
        });
      }
      case 'verify': {
        const cid = parseCid(arg);
        return withNode(vault, false, async (node) => {
          const { blocks, bytes } = await node.verify(cid, { signal: io.signal });
          io.stdout.write(
            `${cid.toString()}: ${blocks} blocks, ${bytes} bytes, all present and intact\n`,
          );
          return 0;
        });
      }
      case 'pin':
      case 'unpin': {
        const cid = parseCid(arg);
        return withNode(vault, false, async (node) => {
          if (action === 'pin') await node.pin(cid, { signal: io.signal });
          else await node.unpin(cid, { signal: io.signal });
          io.stdout.write(`${action === 'pin' ? 'pinned' : 'unpinned'} ${cid.toString()}\n`);
          return 0;
        });
      }
      case 'gc':
        return withNode(vault, false, async (node) => {
          await node.gc({ signal: io.signal });
          return 0;
        });
      case 'push': {
        const cid = parseCid(arg);
        const kubo = new KuboRpcBackend({ apiUrl: required(values.kubo, 'kubo') });
        return withNode(vault, false, async (node) => {
          // resumable: an interrupted push continues after the last batch kubo confirmed
          const result = await publishToKubo(node.local, kubo, cid, {
            journalDir: join(vaultIpfsFolder(resolve(vault)), 'publish'),
            ...(io.signal ? { signal: io.signal } : {}),
            onBatch: (p) => {
              io.stderr.write(`sent batch ${p.batch + 1} (${p.bytesSent} bytes)\n`);
            },
          });
          io.stdout.write(
            `pinned ${cid.toString()} on ${kubo.apiUrl} (${result.blocksSent} blocks sent, ${result.blocksSkipped} already there)\n`,
          );
          return 0;
        });
      }
      case 'push-cluster': {
        const cid = parseCid(arg);
        const copies = /^(\d{1,2})(?:-(\d{1,2}))?$/.exec(values.copies ?? '2');
        if (!copies)
          throw new CustosError('UsageError', '--copies is a number of peers, or MIN-MAX');
        const min = Number(copies[1]);
        const max = Number(copies[2] ?? copies[1]);
        const auth = io.env['CUSTOS_CLUSTER_AUTH'];
        const colon = auth?.indexOf(':') ?? -1;
        if (auth !== undefined && colon < 1)
          throw new CustosError('UsageError', 'CUSTOS_CLUSTER_AUTH must be user:password');
        const cluster = new IpfsClusterClient({
          apiUrl: required(values.cluster, 'cluster'),
          ...(auth !== undefined
            ? { auth: { user: auth.slice(0, colon), password: auth.slice(colon + 1) } }
            : {}),
        });
        return withNode(vault, false, async (node) => {
          const status = await cluster.publish(node, cid, {
            replication: { min, max },
            timeoutMs: timeoutSeconds(values.timeout) * 1000,
            signal: io.signal,
            onStatus: (s) =>
              io.stderr.write(
                `${s.peers.map((p) => `${p.peerName || p.peerId}: ${p.status}`).join(', ')}\n`,
              ),
          });
          const pinned = status.peers.filter((p) => p.status === 'pinned').length;
          io.stdout.write(
            `pinned ${cid.toString()} on ${pinned} cluster peers at ${cluster.apiUrl}\n`,
          );
          return 0;
        });
      }
      case 'pin-remote': {
        const cid = parseCid(arg);
        const token = io.env['CUSTOS_PINNING_TOKEN'];
        if (!token)
          throw new CustosError(
            'UsageError',
            'set CUSTOS_PINNING_TOKEN to the pinning service access token',
          );
        const timeout = timeoutSeconds(values.timeout);
        const service = new PinningServiceClient({
          endpoint: required(values.service, 'service'),
          token,
        });
        // The node listens while the service fetches from it (our addresses go as `origins`).
        return withNode(vault, true, async (node) => {
          await node.verify(cid, { signal: io.signal });
          const status = await service.pin(cid, {
            origins: node.multiaddrs(),
            timeoutMs: timeout * 1000,
            signal: io.signal,
            onStatus: (s) => io.stderr.write(`${s.status}\n`),
          });
          io.stdout.write(`pinned ${cid.toString()} (request ${status.requestid})\n`);
          return 0;
        });
      }
      default:
        throw new CustosError('UsageError', `unknown action "${action ?? ''}"\n${help}`);
    }
  },
};
