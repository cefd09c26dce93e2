// Runs one encryption or decryption in its own process so that its peak RSS can be read.
// usage: node bench/crypto-worker.ts encrypt|decrypt BACKEND IN OUT
import { decryptFile, encryptFile, loadBackend, type BackendName } from '../app/crypto/index.ts';

const [mode, backend, input, output] = process.argv.slice(2) as [
  string,
  BackendName,
  string,
  string,
];
const sodium = await loadBackend(backend);
const datasetKey = new Uint8Array(32).fill(42);
const datasetId = '0123456789abcdef0123456789abcdef';
const started = performance.now();
const { plaintextBytes } =
  mode === 'encrypt'
    ? await encryptFile({ sodium, datasetKey, datasetId }, input, output)
    : await decryptFile({ sodium, keyFor: () => datasetKey }, input, output);
const seconds = (performance.now() - started) / 1000;
process.stdout.write(
  JSON.stringify({ plaintextBytes, seconds, maxRssKiB: process.resourceUsage().maxRSS }),
);
