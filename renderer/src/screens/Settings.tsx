import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { AppStatus } from '../../../app/api/index.ts';
import { useApi } from '../api/context.tsx';
import { ErrorNote } from '../components/ErrorNote.tsx';
import { ComingSoon } from './ComingSoon.tsx';

/** Settings: what this version really has (this device), then what arrives with each layer. */
export function Settings({ status }: { status: AppStatus }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const forget = useMutation({
    mutationFn: () => api.forgetDevice({}),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['status'] }),
  });
  return (
    <>
      <section className="screen" aria-labelledby="device-title">
        <h1>Settings</h1>
        <div className="panel" data-testid="settings-device">
          <h2 id="device-title">This device</h2>
          <p>
            The vault locks itself after <strong>{status.autoLockMinutes} minutes</strong> without
            activity; the desktop app also locks it when the screen locks or the computer sleeps.
          </p>
          {status.remember.available ? (
            status.remember.enabled ? (
              <>
                <p>
                  The passphrase is remembered in this computer’s keychain: anyone who can log in to
                  this account can unlock the vault.
                </p>
                <button
                  type="button"
                  className="button"
                  onClick={() => forget.mutate()}
                  disabled={forget.isPending}
                >
                  Forget the passphrase on this device
                </button>
                <ErrorNote error={forget.error} />
              </>
            ) : (
              <p className="muted">
                The passphrase is not remembered on this device. You can choose to remember it when
                you unlock.
              </p>
            )
          ) : (
            <p className="muted">
              “Remember on this device” needs the desktop app and an operating-system keychain; it
              is not offered in this window.
            </p>
          )}
        </div>
      </section>
      <ComingSoon
        level={2}
        title="More settings"
        arrives="as each layer lands"
        what="Network profiles, IPFS storage with live health, your Ledger, the enclave trust policy (which platform statuses are accepted), the operator key, and backups."
        meanwhile="This vault is on the development network."
      />
    </>
  );
}
