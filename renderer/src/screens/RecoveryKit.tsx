import { useMemo, useState } from 'react';
import { DevnetBanner } from '../components/TopBar.tsx';

export interface Kit {
  readonly key: string;
  readonly text: string;
}

/** Two distinct group positions (1-based) to type back, chosen at random. */
function pickGroups(count: number): [number, number] {
  const values = new Uint32Array(2);
  crypto.getRandomValues(values);
  const first = ((values[0] ?? 0) % count) + 1;
  let second = ((values[1] ?? 0) % (count - 1)) + 1;
  if (second >= first) second += 1;
  return first < second ? [first, second] : [second, first];
}

const normalise = (s: string) => s.trim().toUpperCase().replace(/O/g, '0').replace(/[IL]/g, '1');

/**
 * The recovery kit, shown once (Cryptomator's flow): the key in groups, save or print it, then
 * prove it was stored by typing two groups back.
 */
export function RecoveryKit({
  kit,
  onDone,
  simulated,
}: {
  kit: Kit;
  onDone: () => void;
  simulated: boolean;
}) {
  const groups = kit.key.split('-');
  const [a, b] = useMemo(() => pickGroups(groups.length), [groups.length]);
  const [first, setFirst] = useState('');
  const [second, setSecond] = useState('');
  const [tried, setTried] = useState(false);
  const ok = normalise(first) === groups[a - 1] && normalise(second) === groups[b - 1];

  const save = () => {
    const url = URL.createObjectURL(new Blob([kit.text], { type: 'text/plain' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = 'custos-recovery-kit.txt';
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };

  return (
    <div className="standalone">
      {simulated ? <DevnetBanner /> : null}
      <main className="card" data-testid="recovery-kit">
        <p className="eyebrow">Vault created · step 2 of 2</p>
        <h1>Save your recovery key</h1>
        <p>
          If the passphrase is ever forgotten, this key is the only way back into the vault.{' '}
          <strong>It is shown only now.</strong> Print it or save it, and keep it somewhere safe
          away from this computer — a locked drawer, or your hospital’s key safe.
        </p>
        <ol className="kit-groups" aria-label="Recovery key" data-testid="recovery-key">
          {groups.map((g, i) => (
            <li key={i}>
              <span className="kit-index">{i + 1}</span>
              <code>{g}</code>
            </li>
          ))}
        </ol>
        <div className="actions no-print">
          <button type="button" className="button" onClick={save}>
            Save as text file
          </button>
          <button type="button" className="button" onClick={() => window.print()}>
            Print or save as PDF
          </button>
        </div>
        <form
          className="no-print"
          onSubmit={(e) => {
            e.preventDefault();
            setTried(true);
            if (ok) onDone();
          }}
        >
          <h2>Check that you stored it</h2>
          <p>
            Type groups {a} and {b} of the key, from what you saved.
          </p>
          <div className="field-row">
            <label className="field">
              <span className="field-label">Group {a}</span>
              <input
                value={first}
                onChange={(e) => setFirst(e.target.value)}
                autoComplete="off"
                spellCheck={false}
                maxLength={5}
                data-testid="kit-group-1"
                data-group={a}
              />
            </label>
            <label className="field">
              <span className="field-label">Group {b}</span>
              <input
                value={second}
                onChange={(e) => setSecond(e.target.value)}
                autoComplete="off"
                spellCheck={false}
                maxLength={5}
                data-testid="kit-group-2"
                data-group={b}
              />
            </label>
          </div>
          {tried && !ok ? (
            <p className="field-error" role="alert">
              These do not match groups {a} and {b}. Check what you saved — and save it again if it
              is incomplete.
            </p>
          ) : null}
          <button type="submit" className="button button-primary" data-testid="kit-confirm">
            I have stored my recovery key
          </button>
        </form>
      </main>
    </div>
  );
}
