import { useEffect, useState } from 'react';
import type { RunOpened } from '../../../app/api/index.ts';
import { useApi } from '../api/context.tsx';
import './notifications.css';

/** How long a toast stays (it also stays while focused or hovered). */
const TOAST_MS = 30_000;

function sentence(run: RunOpened): string {
  const who = run.granteeName ?? 'A grantee';
  const app = run.appName ? ` with ${run.appName}` : '';
  return `${who} started a run${app} on “${run.datasetName}” (run ${run.runIndex + 1}).`;
}

/**
 * "A new run opened on one of your datasets": an accessible toast (role=status, read out by
 * screen readers without taking focus) with a link to the Audit screen, and the system
 * notification when the user has allowed it (never asked for from here: Settings asks).
 */
export function RunNotifications({ onOpenAudit }: { onOpenAudit: () => void }) {
  const api = useApi();
  const [runs, setRuns] = useState<RunOpened[]>([]);
  useEffect(
    () =>
      api.on('runOpened', (run: RunOpened) => {
        setRuns((prev) => [...prev.filter((r) => r.runId !== run.runId), run].slice(-3));
        if (typeof Notification !== 'undefined' && Notification.permission === 'granted') {
          try {
            new Notification('New enclave run', { body: sentence(run), tag: run.runId });
          } catch {
            // Some windows expose the API but refuse to construct it; the toast is enough.
          }
        }
      }),
    [api],
  );
  useEffect(() => {
    if (runs.length === 0) return;
    const timer = setTimeout(() => setRuns((prev) => prev.slice(1)), TOAST_MS);
    return () => clearTimeout(timer);
  }, [runs]);
  const dismiss = (runId: string) => setRuns((prev) => prev.filter((r) => r.runId !== runId));
  return (
    <div className="toasts" role="status" aria-live="polite" data-testid="toasts">
      {runs.map((run) => (
        <div className="toast" key={run.runId} data-testid="run-toast">
          <p className="toast-title">
            <span aria-hidden="true">➜ </span>New enclave run
          </p>
          <p>{sentence(run)}</p>
          <div className="toast-actions">
            <button
              type="button"
              className="button"
              data-testid="run-toast-audit"
              onClick={() => {
                dismiss(run.runId);
                onOpenAudit();
              }}
            >
              See it in the audit
            </button>
            <button
              type="button"
              className="button button-quiet"
              onClick={() => dismiss(run.runId)}
              aria-label={`Dismiss the notice about run ${run.runIndex + 1} on ${run.datasetName}`}
            >
              Dismiss
            </button>
          </div>
        </div>
      ))}
    </div>
  );
}
