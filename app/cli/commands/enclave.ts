import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { sodium } from '../../crypto/index.ts';
import { CustosError, fromFsError } from '../../errors/index.ts';
import { splitGrantId } from '../../chain/index.ts';
import { ENCLAVE_APPS, enclaveApp } from '../../../enclave-bridge/apps/index.ts';
import { simulationKeyFromSeed } from '../../../enclave-bridge/attestation/index.ts';
import {
  devnetClients,
  readDevnetDescriptor,
  runSimulatedEnclave,
} from '../../../enclave-bridge/simulator/index.ts';
import { runSimulatedMultiEnclave } from '../../../enclave-bridge/simulator/two-party.ts';
import { parseCommandLine, required, type Command, type Io } from '../command.ts';

const help = `usage: custos enclave run --app APP --dataset ID --grant ID [--consumer-key FILE]
                          [--params JSON] [--out DIR] [--devnet FILE]
                          [--model-grant ID [--model-provider FILE]]
       custos enclave open RESULT --secret-key FILE [--hash 0xHASH]
       custos enclave measure --app APP

run      Runs an enclave app end to end in the SIMULATED enclave against a running devnet
         (\`custos devnet\`): key release for the grant, the dataset fetched from IPFS and
         decrypted inside, the app run, its result sealed to the consumer's key, signed, and the
         run closed on-chain. Prints the run id, where the result is, and its hash.
         --consumer-key FILE holds the consumer's X25519 public key (hex); without it a key pair
         is made and its secret key saved next to the result so it can be opened.
         --devnet FILE is the devnet's devnet.json (default: $CUSTOS_DEVNET, else
         ./custos-devnet/devnet.json).
         --model-grant ID (app infer): the model provider's grant of its model dataset; its key
         is released by the provider's own key-release service, described by --model-provider
         FILE (the provider's provider.json; default: the devnet's). Two runs are opened, one per
         owner, and both are closed with the one result's hash.
open     Opens a sealed result with the consumer's secret key and prints it; with --hash, first
         checks it is the result whose hash the run recorded on-chain.
measure  Prints the app's measurement: the value a grant must allow.

apps: ${Object.keys(ENCLAVE_APPS).join(', ')}
`;

const hex32 = /^0x[0-9a-fA-F]{64}$/;

async function readHexKey(path: string): Promise<Uint8Array> {
  const text = await readFile(path, 'utf8').catch((e: unknown) =>
    Promise.reject(fromFsError(e, path)),
  );
  const hex = text.trim().replace(/^0x/, '');
  if (!/^[0-9a-fA-F]{64}$/.test(hex))
    throw new CustosError('UsageError', `${path} must hold a 32-byte X25519 key in hex`);
  return Buffer.from(hex, 'hex');
}

async function run(argv: readonly string[], io: Io): Promise<number> {
  const { values } = parseCommandLine(
    argv,
    {
      app: { type: 'string' },
      dataset: { type: 'string' },
      grant: { type: 'string' },
      'consumer-key': { type: 'string' },
      params: { type: 'string' },
      out: { type: 'string' },
      devnet: { type: 'string' },
      'model-grant': { type: 'string' },
      'model-provider': { type: 'string' },
    },
    help,
  );
  const app = enclaveApp(required(values.app, 'app'));
  if (!app.multi && values['model-grant'] !== undefined)
    throw new CustosError(
      'UsageError',
      `${app.name} reads one dataset: --model-grant is for infer`,
    );
  const dataset = required(values.dataset, 'dataset').toLowerCase();
  const grant = required(values.grant, 'grant').toLowerCase();
  if (!hex32.test(dataset) || !hex32.test(grant))
    throw new CustosError('UsageError', '--dataset and --grant are 0x-prefixed 32-byte ids');
  if (splitGrantId(grant).datasetId !== dataset) {
    throw new CustosError('UsageError', `grant ${grant} is not a grant of dataset ${dataset}`);
  }
  let params: unknown = {};
  if (values.params !== undefined) {
    try {
      params = JSON.parse(values.params);
    } catch {
      throw new CustosError('UsageError', '--params must be JSON');
    }
  }
  const descriptorPath = resolve(
    values.devnet ?? io.env['CUSTOS_DEVNET'] ?? join('custos-devnet', 'devnet.json'),
  );
  const descriptor = await readDevnetDescriptor(descriptorPath).catch((error: unknown) => {
    throw new CustosError(
      'UsageError',
      `no running devnet described at ${descriptorPath} — start one with \`custos devnet\``,
      { cause: error },
    );
  });
  const out = resolve(values.out ?? '.');
  await mkdir(out, { recursive: true });
  const s = await sodium();
  let consumerPublicKey: Uint8Array;
  let secretNote = '';
  if (values['consumer-key']) {
    consumerPublicKey = await readHexKey(resolve(values['consumer-key']));
  } else {
    const pair = s.boxKeypair();
    consumerPublicKey = pair.publicKey;
    const secretPath = join(out, 'consumer-secret-key.hex');
    await writeFile(secretPath, Buffer.from(pair.secretKey).toString('hex'), {
      mode: 0o600,
      flag: 'wx',
    }).catch((e: unknown) => Promise.reject(fromFsError(e, secretPath)));
    secretNote = secretPath;
  }
  const seed = Buffer.from((await readFile(descriptor.simulationSeedFile, 'utf8')).trim(), 'hex');
  if (app.multi) {
    const modelGrant = required(values['model-grant'], 'model-grant').toLowerCase();
    if (!hex32.test(modelGrant))
      throw new CustosError('UsageError', '--model-grant is a 0x-prefixed 32-byte id');
    const providerPath = values['model-provider'];
    const provider = providerPath
      ? await readDevnetDescriptor(resolve(providerPath)).catch((error: unknown) => {
          throw new CustosError(
            'UsageError',
            `${providerPath} does not describe a model provider`,
            {
              cause: error,
            },
          );
        })
      : descriptor;
    const result = await runSimulatedMultiEnclave({
      app: app.name,
      grants: {
        model: { grantId: modelGrant, keyReleaseUrl: provider.keyReleaseUrl },
        data: { grantId: grant, keyReleaseUrl: descriptor.keyReleaseUrl },
      },
      params,
      consumerPublicKey,
      ipfs: [...provider.ipfs, ...descriptor.ipfs],
      simulationKey: await simulationKeyFromSeed(seed),
      relayer: devnetClients(descriptor).relayer,
    });
    const first = result.runs[0]?.runId ?? '0x';
    const resultPath = join(out, `result-${first.slice(2, 18)}.sealed`);
    await writeFile(resultPath, result.sealedResult, { mode: 0o600, flag: 'wx' }).catch(
      (e: unknown) => Promise.reject(fromFsError(e, resultPath)),
    );
    io.stdout.write(
      `${JSON.stringify(
        {
          simulated: true,
          app: app.name,
          measurement: result.measurement,
          runs: result.runs.map((r) => ({
            role: r.role,
            runId: r.runId,
            datasetId: r.release.datasetId,
            openTx: r.release.txHash,
            closeTx: r.close.hash,
          })),
          result: resultPath,
          resultHash: result.resultHash,
          ...(secretNote ? { consumerSecretKey: secretNote } : {}),
        },
        null,
        2,
      )}\n`,
    );
    io.stderr.write(
      'SIMULATED enclave (devnet only): the attestation is signed by the devnet simulation key, not by Intel.\n',
    );
    return 0;
  }
  const result = await runSimulatedEnclave({
    app: app.name,
    grantId: grant,
    params,
    consumerPublicKey,
    keyReleaseUrl: descriptor.keyReleaseUrl,
    ipfs: descriptor.ipfs,
    simulationKey: await simulationKeyFromSeed(seed),
    relayer: devnetClients(descriptor).relayer,
  });
  const resultPath = join(out, `result-${result.runId.slice(2, 18)}.sealed`);
  await writeFile(resultPath, result.sealedResult, { mode: 0o600, flag: 'wx' }).catch(
    (e: unknown) => Promise.reject(fromFsError(e, resultPath)),
  );
  io.stdout.write(
    `${JSON.stringify(
      {
        simulated: true,
        app: app.name,
        measurement: result.measurement,
        runId: result.runId,
        result: resultPath,
        resultHash: result.resultHash,
        openTx: result.release.txHash,
        closeTx: result.close.hash,
        ...(secretNote ? { consumerSecretKey: secretNote } : {}),
      },
      null,
      2,
    )}\n`,
  );
  io.stderr.write(
    'SIMULATED enclave (devnet only): the attestation is signed by the devnet simulation key, not by Intel.\n',
  );
  return 0;
}

export const enclave: Command = {
  help,
  async run(argv, io) {
    const [action, ...rest] = argv;
    if (action === 'run') return run(rest, io);
    if (action === 'open') {
      const { values, positionals } = parseCommandLine(
        rest,
        { 'secret-key': { type: 'string' }, hash: { type: 'string' } },
        help,
      );
      const [resultPath, ...extra] = positionals;
      if (!resultPath || extra.length > 0) throw new CustosError('UsageError', help);
      const sealed = await readFile(resolve(resultPath)).catch((e: unknown) =>
        Promise.reject(fromFsError(e, resultPath)),
      );
      if (values.hash !== undefined) {
        const actual = `0x${createHash('sha256').update(sealed).digest('hex')}`;
        if (actual !== values.hash.toLowerCase()) {
          throw new CustosError(
            'ProofInvalid',
            `the result's hash is ${actual}, not the recorded ${values.hash}`,
          );
        }
      }
      const secretKey = await readHexKey(resolve(required(values['secret-key'], 'secret-key')));
      const s = await sodium();
      const publicKey = s.boxPublicKeyOf(secretKey);
      const opened = s.boxSealOpen(sealed, publicKey, secretKey);
      if (!opened)
        throw new CustosError(
          'WrongKey',
          'this secret key does not open the result (sealed to another consumer, or damaged)',
        );
      io.stdout.write(new TextDecoder().decode(opened));
      return 0;
    }
    if (action === 'measure') {
      const { values } = parseCommandLine(rest, { app: { type: 'string' } }, help);
      io.stdout.write(`${await enclaveApp(required(values.app, 'app')).measurement()}\n`);
      return 0;
    }
    throw new CustosError('UsageError', help);
  },
};
