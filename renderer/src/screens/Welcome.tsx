import { useMutation } from '@tanstack/react-query';
import { useId, useState } from 'react';
import type { AppStatus } from '../../../app/api/index.ts';
import { useApi } from '../api/context.tsx';
import { ErrorNote } from '../components/ErrorNote.tsx';
import { estimateStrength, MIN_LENGTH } from '../components/strength.ts';
import { DevnetBanner, ThemeSwitch } from '../components/TopBar.tsx';
import type { Theme } from '../components/theme.ts';
import type { Kit } from './RecoveryKit.tsx';

export function StrengthMeter({ passphrase }: { passphrase: string }) {
  const strength = estimateStrength(passphrase);
  const id = useId();
  return (
    <div className="strength" data-testid="strength" data-score={strength.score}>
      <meter
        id={id}
        min={0}
        max={4}
        low={1.5}
        high={2.5}
        optimum={4}
        value={passphrase ? Math.max(strength.score, 0.2) : 0}
        aria-label="Passphrase strength"
        aria-valuetext={strength.label}
      />
      <p className="strength-text" aria-live="polite">
        <strong>{passphrase ? strength.label : `At least ${MIN_LENGTH} characters`}</strong>
        {passphrase && strength.hint ? ` — ${strength.hint}` : null}
      </p>
    </div>
  );
}

export function Welcome({
  onCreated,
  status,
  theme,
}: {
  onCreated: (kit: Kit) => void;
  status: AppStatus;
  theme: Theme;
}) {
  const api = useApi();
  const [passphrase, setPassphrase] = useState('');
  const [again, setAgain] = useState('');
  const [touched, setTouched] = useState(false);
  const strength = estimateStrength(passphrase);
  const mismatch = again !== '' && again !== passphrase;
  const create = useMutation({
    mutationFn: () => api.createVault({ passphrase }),
    onSuccess: (kit) => onCreated({ key: kit.recoveryKey, text: kit.recoveryKitText }),
  });
  const canCreate = strength.score >= 1 && again === passphrase && !create.isPending;
  return (
    <div className="standalone">
      {status.network.simulated ? <DevnetBanner /> : null}
      <div className="standalone-top">
        <ThemeSwitch theme={theme} />
      </div>
      <main className="card card-narrow" data-testid="welcome">
        <p className="eyebrow">Welcome to Custos</p>
        <h1>Create your vault</h1>
        <p>
          Your vault keeps the keys of your datasets on this computer. A passphrase protects it —
          choose one you do not use anywhere else. Next, Custos shows a recovery key, once, in case
          the passphrase is ever forgotten.
        </p>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            setTouched(true);
            if (canCreate) create.mutate();
          }}
        >
          <label className="field">
            <span className="field-label">Passphrase</span>
            <input
              type="password"
              autoComplete="new-password"
              value={passphrase}
              onChange={(e) => setPassphrase(e.target.value)}
              data-testid="passphrase"
              aria-describedby="strength-help"
              autoFocus
            />
          </label>
          <div id="strength-help">
            <StrengthMeter passphrase={passphrase} />
          </div>
          <label className="field">
            <span className="field-label">Type it again</span>
            <input
              type="password"
              autoComplete="new-password"
              value={again}
              onChange={(e) => setAgain(e.target.value)}
              data-testid="passphrase-again"
              aria-invalid={mismatch || undefined}
            />
          </label>
          {mismatch || (touched && again !== passphrase) ? (
            <p className="field-error" role="alert">
              The two passphrases differ.
            </p>
          ) : null}
          <ErrorNote error={create.error} />
          <button
            type="submit"
            className="button button-primary"
            disabled={!canCreate}
            data-testid="create-vault"
          >
            {create.isPending ? 'Creating your vault…' : 'Create vault'}
          </button>
        </form>
      </main>
    </div>
  );
}
