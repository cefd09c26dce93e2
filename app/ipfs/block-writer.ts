// The block-writing thread of VaultBlockstore (node.ts): takes blocks from a ring of slots in a
// SharedArrayBuffer and writes each to its own file (temp name, then rename), so that file
// creation and the copy into the page cache run on the second core while the main thread reads
// and hashes. No messages per block: the two threads coordinate through Atomics on the ring's
// head and tail counters. Layout and protocol: see `BlockRing` in node.ts.
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { workerData } from 'node:worker_threads';

interface WriterData {
  readonly root: string;
  readonly sab: SharedArrayBuffer;
  readonly slots: number;
  readonly slotSize: number;
}

// Must match node.ts.
const HEAD = 0;
const TAIL = 1;
const STOP = 2;
const ERROR = 3;
const CONTROL_BYTES = 64;
const ERROR_BYTES = 1024;
const SLOT_HEADER = 8;
const PATH_BYTES = 248;

const { root, sab, slots, slotSize } = workerData as WriterData;
const control = new Int32Array(sab, 0, CONTROL_BYTES / 4);
const errorText = new Uint8Array(sab, CONTROL_BYTES, ERROR_BYTES);
const bytes = new Uint8Array(sab);
const view = new DataView(sab);
const decoder = new TextDecoder();
const encoder = new TextEncoder();
const dirs = new Set<string>();
let counter = 0;

function fail(error: unknown, path: string): void {
  if (Atomics.load(control, ERROR) !== 0) return; // keep the first failure
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const { written } = encoder.encodeInto(
    JSON.stringify({ code, path, message: (error as Error).message }),
    errorText.subarray(4),
  );
  new DataView(sab, CONTROL_BYTES, 4).setUint32(0, written);
  Atomics.store(control, ERROR, 1);
}

function writeSlot(index: number): void {
  const base = CONTROL_BYTES + ERROR_BYTES + index * slotSize;
  const length = view.getUint32(base);
  const pathLength = view.getUint32(base + 4);
  const relative = decoder.decode(
    bytes.subarray(base + SLOT_HEADER, base + SLOT_HEADER + pathLength),
  );
  const data = bytes.subarray(
    base + SLOT_HEADER + PATH_BYTES,
    base + SLOT_HEADER + PATH_BYTES + length,
  );
  const slash = relative.lastIndexOf('/');
  const folder = join(root, relative.slice(0, slash));
  const file = relative.slice(slash + 1);
  const tmp = join(folder, `.${file}.${process.pid}.w${counter++}.tmp`);
  try {
    if (!dirs.has(folder)) {
      mkdirSync(folder, { recursive: true });
      dirs.add(folder);
    }
    writeFileSync(tmp, data);
    renameSync(tmp, join(folder, file));
  } catch (error) {
    fail(error, folder);
    try {
      rmSync(tmp, { force: true });
    } catch {
      // the folder itself is the problem (already reported)
    }
  }
}

for (;;) {
  const head = Atomics.load(control, HEAD);
  const tail = Atomics.load(control, TAIL);
  if (tail === head) {
    if (Atomics.load(control, STOP) !== 0) break;
    Atomics.wait(control, HEAD, head, 1000);
    continue;
  }
  // after a failure the remaining blocks are dropped: the add that queued them fails anyway
  if (Atomics.load(control, ERROR) === 0) {
    try {
      writeSlot(tail % slots);
    } catch (error) {
      fail(error, root); // never leave the main thread waiting on a dead writer
    }
  }
  Atomics.store(control, TAIL, tail + 1);
  Atomics.notify(control, TAIL);
}
