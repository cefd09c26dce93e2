/**
 * Durable file writes. Two patterns, both all-or-nothing:
 * - `writeFileAtomic`: small files (the keyring) — temp file, fsync, rename, fsync the folder.
 * - `createStaged` + `promote`: large outputs written as a stream — into a temporary file beside the
 *   destination, promoted with a hard link (which never replaces an existing file) only when the
 *   writer says the content is complete; discarded otherwise.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CustosError, fromFsError } from '../errors/index.ts';

const TEMP_MARK = '.custos-tmp-';

function tempPathFor(path: string): string {
  return join(
    dirname(path),
    `.${basename(path)}${TEMP_MARK}${process.pid}-${randomBytes(6).toString('hex')}`,
  );
}

/** fsyncs a folder so that a rename or link inside it survives a crash. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces `path` with `data` atomically: after a crash at any moment the file holds either the
 * old or the new content, never a mix. Throws `DiskFull`, `PermissionDenied`, `FileSystemError`.
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  mode = 0o600,
): Promise<void> {
  const temp = tempPathFor(path);
  let handle: FileHandle | undefined;
  try {
    handle = await open(temp, 'wx', mode);
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, path);
    await syncDir(dirname(path));
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw fromFsError(error, path);
  }
}

/** Removes temporary files that a crashed write left next to `path` (never the file itself). */
export async function removeStaleTemps(path: string): Promise<void> {
  const prefix = `.${basename(path)}${TEMP_MARK}`;
  const entries = await readdir(dirname(path)).catch(() => [] as string[]);
  await Promise.all(
    entries
      .filter((e) => e.startsWith(prefix))
      .map((e) => unlink(join(dirname(path), e)).catch(() => undefined)),
  );
}

/** A file being written that becomes visible at its destination only through `promote`. */
export interface StagedFile {
  readonly destination: string;
  readonly handle: FileHandle;
  /** Writes all of `bytes` (handles short writes); file-system errors become tagged errors. */
  write(bytes: Uint8Array): Promise<void>;
  /** fsyncs, links into place (failing with `OutputExists` rather than replacing), fsyncs the folder. */
  promote(): Promise<void>;
  /** Closes and deletes the temporary file; safe to call more than once or after promote. */
  discard(): Promise<void>;
}

/**
 * Starts writing a new file at `destination`. Fails at once with `OutputExists` if something is
 * already there: Custos never overwrites an output.
 */
export async function createStaged(destination: string, mode = 0o600): Promise<StagedFile> {
  try {
    await open(destination, 'r').then((h) => h.close());
    throw new CustosError(
      'OutputExists',
      `${destination} already exists; Custos does not overwrite`,
      {
        details: { path: destination },
      },
    );
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw fromFsError(error, destination);
  }
  const temp = tempPathFor(destination);
  let handle: FileHandle;
  try {
    handle = await open(temp, 'wx', mode);
  } catch (error) {
    throw fromFsError(error, destination);
  }
  let closed = false;
  let promoted = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await handle.close();
  };
  return {
    destination,
    handle,
    async write(bytes) {
      try {
        let offset = 0;
        while (offset < bytes.length) {
          const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
          offset += bytesWritten;
        }
      } catch (error) {
        throw fromFsError(error, destination);
      }
    },
    async promote() {
      try {
        await handle.sync();
        await close();
        try {
          await link(temp, destination);
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'EEXIST') throw error;
          // File systems without hard links: rename after a last existence check.
          if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw error;
          await open(destination, 'r').then(
            async (h) => {
              await h.close();
              throw Object.assign(new Error('exists'), { code: 'EEXIST' });
            },
            () => rename(temp, destination),
          );
        }
        promoted = true;
        await unlink(temp).catch(() => undefined);
        await syncDir(dirname(destination));
      } catch (error) {
        if (!promoted) await unlink(temp).catch(() => undefined);
        throw fromFsError(error, destination);
      }
    },
    async discard() {
      await close().catch(() => undefined);
      if (!promoted) await unlink(temp).catch(() => undefined);
    },
  };
}

/** A `readFull` source over an open file: fills the buffer unless the file ends first. */
export function fileSource(
  handle: FileHandle,
  path: string,
): { readFull(buffer: Uint8Array): Promise<number> } {
  return {
    async readFull(buffer) {
      let filled = 0;
      try {
        while (filled < buffer.length) {
          const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, null);
          if (bytesRead === 0) break;
          filled += bytesRead;
        }
      } catch (error) {
        throw fromFsError(error, path);
      }
      return filled;
    },
  };
}

/** Opens a file for reading; a missing or unreadable file becomes a tagged error. */
export async function openForReading(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (error) {
    throw fromFsError(error, path);
  }
}
