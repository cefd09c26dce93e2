import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import type { AppStatus } from '../../../app/api/index.ts';
import { useApi } from '../api/context.tsx';
import { ErrorNote } from '../components/ErrorNote.tsx';
import { DevnetBanner, ThemeSwitch } from '../components/TopBar.tsx';
import type { Theme } from '../components/theme.ts';

export function Unlock({ status, theme }: { status: AppStatus; theme: Theme }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [mode, setMode] = useState<'passphrase' | 'recovery'>('passphrase');
  const [secret, setSecret] = useState('');
  const [remember, setRemember] = useState(false);
  const unlock = useMutation({
    mutationFn: () =>
      mode === 'passphrase'
        ? api.unlock(
            status.remember.available ? { passphrase: secret, remember } : { passphrase: secret },
          )
        : api.unlockWithRecoveryKey({ recoveryKey: secret }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['status'] }),
  });
  const remembered = useMutation({
    mutationFn: () => api.unlockRemembered({}),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['status'] }),
  });
  return (
    <div className="standalone">
      {status.network.simulated ? <DevnetBanner /> : null}
      <div className="standalone-top">
        <ThemeSwitch theme={theme} />
      </div>
      <main className="card card-narrow" data-testid="unlock">
        <h1>Unlock your vault</h1>
        <p className="muted">
          The vault locks itself after {status.autoLockMinutes} minutes without activity.
        </p>
        {status.remember.enabled && mode === 'passphrase' ? (
          <div className="panel-quiet">
            <button
              type="button"
              className="button button-primary"
              onClick={() => remembered.mutate()}
              disabled={remembered.isPending}
              data-testid="unlock-remembered"
            >
              Unlock with this device’s keychain
            </button>
            <ErrorNote error={remembered.error} />
            <p className="muted small">Or type the passphrase:</p>
          </div>
        ) : null}
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (secret) unlock.mutate();
          }}
        >
          <label className="field">
            <span className="field-label">
              {mode === 'passphrase' ? 'Passphrase' : 'Recovery key (from your recovery kit)'}
            </span>
            <input
              type={mode === 'passphrase' ? 'password' : 'text'}
              autoComplete={mode === 'passphrase' ? 'current-password' : 'off'}
              spellCheck={false}
              value={secret}
              onChange={(e) => setSecret(e.target.value)}
              data-testid="unlock-secret"
              autoFocus
            />
          </label>
          {status.remember.available && mode === 'passphrase' ? (
            <label className="check">
              <input
                type="checkbox"
                checked={remember}
                onChange={(e) => setRemember(e.target.checked)}
                data-testid="remember"
              />
              <span>
                Remember on this device
                <span className="field-help">
                  Kept encrypted by your operating system’s keychain. Anyone who can log in to this
                  computer account can then unlock the vault.
                </span>
              </span>
            </label>
          ) : null}
          <ErrorNote error={unlock.error} />
          <button
            type="submit"
            className="button button-primary"
            disabled={!secret || unlock.isPending}
            data-testid="unlock-submit"
          >
            {unlock.isPending ? 'Unlocking…' : 'Unlock'}
          </button>
          <button
            type="button"
            className="button button-link"
            onClick={() => {
              setMode(mode === 'passphrase' ? 'recovery' : 'passphrase');
              setSecret('');
              unlock.reset();
            }}
          >
            {mode === 'passphrase'
              ? 'Forgot the passphrase? Use your recovery key'
              : 'Use the passphrase instead'}
          </button>
        </form>
      </main>
    </div>
  );
}
