/**
 * Preferences the steward changes in Settings, kept beside the keyring in `preferences.json`
 * (written atomically, 0600). Nothing secret: today only the auto-lock delay.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../files/index.ts';

const PreferencesFile = z.object({
  format: z.literal('custos-preferences'),
  version: z.literal(1),
  autoLockMinutes: z
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .nullable(),
});
export type Preferences = Omit<z.output<typeof PreferencesFile>, 'format' | 'version'>;

/** The stored preferences; defaults (null = the host's) when the file is absent or unreadable. */
export async function readPreferences(dir: string): Promise<Preferences> {
  try {
    const parsed = PreferencesFile.safeParse(
      JSON.parse(await readFile(join(dir, 'preferences.json'), 'utf8')),
    );
    if (parsed.success) return { autoLockMinutes: parsed.data.autoLockMinutes };
  } catch {
    // Absent or damaged: a preference is never worth refusing to start.
  }
  return { autoLockMinutes: null };
}

/** @throws FileSystemError / DiskFull when the vault folder cannot be written. */
export async function writePreferences(dir: string, prefs: Preferences): Promise<void> {
  const body = { format: 'custos-preferences', version: 1, ...prefs };
  await writeFileAtomic(join(dir, 'preferences.json'), `${JSON.stringify(body, null, 2)}\n`);
}
