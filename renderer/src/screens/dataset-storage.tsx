import { useQuery } from '@tanstack/react-query';
import type { Dataset, StorageBackendHealth } from '../../../app/api/index.ts';
import { useApi } from '../api/context.tsx';
import { CopyValue } from '../components/CopyValue.tsx';
import { ErrorNote } from '../components/ErrorNote.tsx';
import { formatLocal, formatRelative } from '../components/format.ts';

/** A remote backend's kind, as the steward knows it from Settings. */
const KIND: Record<StorageBackendHealth['kind'], string> = {
  embedded: 'in this app',
  kubo: 'kubo',
  'pinning-service': 'pinning service',
  'ipfs-cluster': 'IPFS Cluster',
};

const backends = (n: number): string => `${n} ${n === 1 ? 'backend' : 'backends'}`;
/** Names in a list cell: all of them up to three, then how many more. */
const SHOWN = 3;

/** The Datasets list's "Stored" cell: "✓ This computer · ✓ IPFS · ✓ 2 backends", names below. */
export function StoredCell({ d }: { d: Dataset }) {
  const copies = d.storage.copies ?? [];
  const names = copies.slice(0, SHOWN).map((c) => c.name);
  if (copies.length > SHOWN) names.push(`${copies.length - SHOWN} more`);
  return (
    <td data-testid="dataset-stored">
      <span className="status-ok">
        ✓ This computer
        {d.storage.ipfsCid ? ' · ✓ IPFS' : null}
        {d.storage.ipfsCid && copies.length > 0 ? ` · ✓ ${backends(copies.length)}` : null}
      </span>
      {!d.storage.ipfsCid ? (
        <span className="cell-sub">IPFS: not published yet</span>
      ) : names.length > 0 ? (
        <span className="cell-sub">Also pinned by {names.join(', ')}</span>
      ) : null}
    </td>
  );
}

/**
 * Dataset detail → Storage: this computer, the embedded IPFS node, one line per copy confirmed at
 * publish, and the backends saved in Settings that hold no copy (and why), so none is assumed.
 */
export function StorageTab({ d }: { d: Dataset }) {
  const api = useApi();
  const settings = useQuery({ queryKey: ['settings'], queryFn: () => api.getSettings({}) });
  const copies = d.storage.copies ?? [];
  const saved = settings.data?.storage.backends.filter((b) => b.kind !== 'embedded');
  const savedNames = new Set(saved?.map((b) => b.name));
  const copied = new Set(copies.map((c) => c.name));
  const why = !d.storage.ipfsCid
    ? 'will be copied when you publish'
    : d.storage.copies
      ? 'added after this dataset was published; publish copies only new datasets'
      : 'not known: this dataset was published before Custos recorded its copies';
  return (
    <>
      <ul className="storage-list" data-testid="storage-list">
        <li>
          <span className="status-ok">✓ This computer</span> — encrypted in your vault folder; only
          your vault holds its key.
        </li>
        {d.storage.ipfsCid ? (
          <li>
            <span className="status-ok">✓ IPFS (this computer’s node, pinned)</span> —{' '}
            <CopyValue value={d.storage.ipfsCid} label="CID" short={14} />
          </li>
        ) : (
          <li>
            <span className="status-pending">○ IPFS</span> — not published yet. “Publish and
            register” above adds the encrypted copy to your IPFS node.
          </li>
        )}
        {copies.map((c) => (
          <li key={c.name} data-testid="storage-copy">
            <span className="status-ok">✓ {c.name}</span> ({KIND[c.kind]}) — pinned{' '}
            {formatLocal(c.pinnedAt)} ({formatRelative(c.pinnedAt)})
            {saved && !savedNames.has(c.name)
              ? '; since removed from Settings, so new datasets are not copied there'
              : null}
          </li>
        ))}
        {saved
          ?.filter((b) => !copied.has(b.name))
          .map((b) => (
            <li key={b.name} data-testid="storage-not-copied">
              <span className="status-pending">○ {b.name}</span> ({KIND[b.kind]}) — {why}
            </li>
          ))}
      </ul>
      {settings.isPending ? (
        <p className="muted">Reading the storage backends saved in Settings…</p>
      ) : null}
      <ErrorNote error={settings.error} title="The backends saved in Settings could not be read" />
    </>
  );
}
