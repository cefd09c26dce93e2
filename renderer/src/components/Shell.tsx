import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import type { AppStatus } from '../../../app/api/index.ts';
import { useApi } from '../api/context.tsx';
import { AddressBook } from '../screens/AddressBook.tsx';
import { Audit } from '../screens/Audit.tsx';
import { Compliance } from '../screens/Compliance.tsx';
import { DatasetDetail } from '../screens/DatasetDetail.tsx';
import { Datasets } from '../screens/Datasets.tsx';
import { Import } from '../screens/Import.tsx';
import { Settings } from '../screens/Settings.tsx';
import { DevicePrompt } from './Device.tsx';
import { RunNotifications } from './Notifications.tsx';
import type { Theme } from './theme.ts';
import { DevnetBanner, StatusChips, ThemeSwitch } from './TopBar.tsx';

export type Screen =
  'datasets' | 'dataset' | 'import' | 'audit' | 'compliance' | 'address-book' | 'settings';

const NAV: { id: Screen; label: string }[] = [
  { id: 'datasets', label: 'Datasets' },
  { id: 'audit', label: 'Audit' },
  { id: 'compliance', label: 'Compliance' },
  { id: 'address-book', label: 'Address book' },
  { id: 'settings', label: 'Settings' },
];

export function Shell({
  status,
  screen,
  onNavigate,
  theme,
  datasetId,
  onOpenDataset,
}: {
  status: AppStatus;
  screen: Screen;
  onNavigate: (screen: Screen) => void;
  theme: Theme;
  datasetId: string | null;
  onOpenDataset: (id: string) => void;
}) {
  const api = useApi();
  const queryClient = useQueryClient();
  const current = screen === 'import' || screen === 'dataset' ? 'datasets' : screen;
  // "Grant access" after an import opens that dataset with the grant wizard.
  const [grantFor, setGrantFor] = useState<string | null>(null);
  return (
    <div className="app">
      <a className="skip-link" href="#content">
        Skip to content
      </a>
      {status.network.simulated ? <DevnetBanner /> : null}
      <header className="topbar">
        <span className="brand" aria-label="Custos">
          <span className="brand-mark" aria-hidden="true">
            ◆
          </span>{' '}
          Custos
        </span>
        <StatusChips status={status} />
        <div className="topbar-actions">
          <ThemeSwitch theme={theme} />
          <button
            type="button"
            className="button button-quiet"
            data-testid="lock"
            onClick={() => {
              void api.lock({}).then(() => queryClient.invalidateQueries({ queryKey: ['status'] }));
            }}
          >
            Lock vault
          </button>
        </div>
      </header>
      <div className="body">
        <nav className="sidenav" aria-label="Main">
          <ul>
            {NAV.map((item) => (
              <li key={item.id}>
                <button
                  type="button"
                  className="nav-item"
                  aria-current={current === item.id ? 'page' : undefined}
                  onClick={() => onNavigate(item.id)}
                >
                  {item.label}
                </button>
              </li>
            ))}
          </ul>
          <p className="sidenav-foot">Locks after {status.autoLockMinutes} min idle</p>
        </nav>
        <main id="content" className="content" tabIndex={-1}>
          {screen === 'datasets' ? (
            <Datasets
              onImport={() => onNavigate('import')}
              onOpen={(id) => {
                setGrantFor(null);
                onOpenDataset(id);
              }}
            />
          ) : null}
          {screen === 'dataset' && datasetId ? (
            <DatasetDetail
              id={datasetId}
              status={status}
              onBack={() => onNavigate('datasets')}
              startGrant={grantFor === datasetId}
            />
          ) : null}
          {screen === 'import' ? (
            <Import
              onDone={() => onNavigate('datasets')}
              onOpen={onOpenDataset}
              onGrant={(id) => {
                setGrantFor(id);
                onOpenDataset(id);
              }}
            />
          ) : null}
          {screen === 'audit' ? <Audit status={status} /> : null}
          {screen === 'compliance' ? <Compliance status={status} /> : null}
          {screen === 'address-book' ? <AddressBook /> : null}
          {screen === 'settings' ? <Settings status={status} /> : null}
        </main>
      </div>
      <RunNotifications onOpenAudit={() => onNavigate('audit')} />
      <DevicePrompt device={status.device} />
    </div>
  );
}
