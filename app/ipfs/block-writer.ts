// The block-writing threads of VaultBlockstore (node.ts): they take blocks from a ring of slots in a
// SharedArrayBuffer, hash raw leaves when asked (so SHA-256 runs on both cores, not only on the
// main thread), and write each block to its own file (temp name, then rename), while the main
// thread reads the file and builds the tree. No messages per block: the threads coordinate
// through Atomics on the ring's counters and per-slot states. Layout and protocol: node.ts.
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { threadId, workerData } from 'node:worker_threads';
import { NextToLast } from 'blockstore-fs/sharding';
import { CID } from 'multiformats/cid';
import * as Digest from 'multiformats/hashes/digest';

interface WriterData {
  readonly root: string;
  readonly sab: SharedArrayBuffer;
  readonly slots: number;
  readonly slotSize: number;
}

// Must match node.ts.
const HEAD = 0;
const CLAIM = 1;
const STOP = 2;
const ERROR = 3;
const STATE = 16;
const FREE = 0;
const CLAIMED = 2;
const DONE = 3;
const CONTROL_BYTES = 256;
const ERROR_BYTES = 1024;
const SLOT_HEADER = 48;
const PATH_BYTES = 248;
const RAW = 0x55;
const SHA2_256 = 0x12;

const { root, sab, slots, slotSize } = workerData as WriterData;
const control = new Int32Array(sab, 0, CONTROL_BYTES / 4);
const errorText = new Uint8Array(sab, CONTROL_BYTES, ERROR_BYTES);
const bytes = new Uint8Array(sab);
const view = new DataView(sab);
const decoder = new TextDecoder();
const encoder = new TextEncoder();
const sharding = new NextToLast();
const dirs = new Set<string>();
let counter = 0;

function fail(error: unknown, path: string): void {
  if (Atomics.compareExchange(control, ERROR, 0, 2) !== 0) return; // keep the first failure
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const { written } = encoder.encodeInto(
    JSON.stringify({ code, path, message: (error as Error).message }),
    errorText.subarray(4),
  );
  new DataView(sab, CONTROL_BYTES, 4).setUint32(0, written);
  Atomics.store(control, ERROR, 1);
}

/** Writes one slot's block; for a raw leaf, hashes it first and leaves the digest in the slot. */
function writeSlot(index: number): void {
  const base = CONTROL_BYTES + ERROR_BYTES + index * slotSize;
  const length = view.getUint32(base);
  const data = bytes.subarray(
    base + SLOT_HEADER + PATH_BYTES,
    base + SLOT_HEADER + PATH_BYTES + length,
  );
  let dir: string;
  let file: string;
  if (view.getUint32(base + 8) === 1) {
    const digest = createHash('sha256').update(data).digest();
    bytes.set(digest, base + 16);
    ({ dir, file } = sharding.encode(CID.createV1(RAW, Digest.create(SHA2_256, digest))));
  } else {
    const pathLength = view.getUint32(base + 4);
    const relative = decoder.decode(
      bytes.subarray(base + SLOT_HEADER, base + SLOT_HEADER + pathLength),
    );
    const slash = relative.lastIndexOf('/');
    dir = relative.slice(0, slash);
    file = relative.slice(slash + 1);
  }
  const folder = join(root, dir);
  const tmp = join(folder, `.${file}.${process.pid}.w${threadId}.${counter++}.tmp`);
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
  const claim = Atomics.load(control, CLAIM);
  const head = Atomics.load(control, HEAD);
  if (claim >= head) {
    if (Atomics.load(control, STOP) !== 0) break;
    Atomics.wait(control, HEAD, head, 1000);
    continue;
  }
  if (Atomics.compareExchange(control, CLAIM, claim, claim + 1) !== claim) continue; // the other writer took it
  const slot = claim % slots;
  Atomics.store(control, STATE + slot, CLAIMED);
  const hashed = view.getUint32(CONTROL_BYTES + ERROR_BYTES + slot * slotSize + 8) === 1;
  // after a failure the remaining blocks are dropped: the add that queued them fails anyway
  if (Atomics.load(control, ERROR) === 0) {
    try {
      writeSlot(slot);
    } catch (error) {
      fail(error, root); // never leave the main thread waiting on a dead writer
    }
  }
  Atomics.store(control, STATE + slot, hashed ? DONE : FREE);
  Atomics.notify(control, STATE + slot);
}
