import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import type { AppStatus } from '../../app/api/index.ts';
import { useApi } from './api/context.tsx';
import { ErrorNote } from './components/ErrorNote.tsx';
import { Shell, type Screen } from './components/Shell.tsx';
import { RecoveryKit, type Kit } from './screens/RecoveryKit.tsx';
import { Unlock } from './screens/Unlock.tsx';
import { Welcome } from './screens/Welcome.tsx';
import { useTheme } from './components/theme.ts';
import { openedOnAudit } from './screens/audit-filters.ts';

export function App() {
  const api = useApi();
  const queryClient = useQueryClient();
  const status = useQuery({ queryKey: ['status'], queryFn: () => api.getStatus({}) });
  const [kit, setKit] = useState<Kit | null>(null);
  const [screen, setScreen] = useState<Screen>(() => (openedOnAudit() ? 'audit' : 'datasets'));
  const [datasetId, setDatasetId] = useState<string | null>(null);
  const theme = useTheme();

  useEffect(
    () =>
      api.on('status', (next: AppStatus) => {
        queryClient.setQueryData(['status'], next);
        if (next.vault !== 'unlocked') queryClient.removeQueries({ queryKey: ['datasets'] });
      }),
    [api, queryClient],
  );

  // Activity resets the core's idle auto-lock (at most once every 20 s).
  useEffect(() => {
    let last = 0;
    const touch = () => {
      if (Date.now() - last < 20_000) return;
      last = Date.now();
      api.touch({}).catch(() => undefined);
    };
    window.addEventListener('keydown', touch);
    window.addEventListener('pointerdown', touch);
    return () => {
      window.removeEventListener('keydown', touch);
      window.removeEventListener('pointerdown', touch);
    };
  }, [api]);

  if (status.isPending) return <p className="loading">Opening Custos…</p>;
  if (status.isError) return <ErrorNote error={status.error} title="Custos could not start" />;
  const s = status.data;

  if (kit) {
    return (
      <RecoveryKit
        kit={kit}
        simulated={s.network.simulated}
        onDone={() => {
          setKit(null);
          setScreen('datasets');
        }}
      />
    );
  }
  if (s.vault === 'absent') return <Welcome onCreated={setKit} status={s} theme={theme} />;
  if (s.vault === 'locked') return <Unlock status={s} theme={theme} />;
  return (
    <Shell
      status={s}
      screen={screen}
      onNavigate={setScreen}
      theme={theme}
      datasetId={datasetId}
      onOpenDataset={(id) => {
        setDatasetId(id);
        setScreen('dataset');
      }}
    />
  );
}
