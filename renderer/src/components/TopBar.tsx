import type { AppStatus } from '../../../app/api/index.ts';
import { DeviceState } from './Device.tsx';
import type { Theme, ThemeChoice } from './theme.ts';

/** UX principle 2: on devnet, a permanent banner says what is not real. */
export function DevnetBanner() {
  return (
    <div className="devnet-banner" role="note" data-testid="devnet-banner">
      <strong>Development network</strong> — simulated enclave, development key. Nothing here
      protects real patient data.
    </div>
  );
}

const NETWORK_TEXT: Record<AppStatus['network']['state'], string> = {
  'not-configured': 'not connected yet',
  connecting: 'starting…',
  connected: 'connected',
  unreachable: 'unreachable — see Settings',
};

/** Network and device status, always visible; by text and symbol, never by colour alone. */
export function StatusChips({ status }: { status: AppStatus }) {
  const net = status.network;
  return (
    <ul className="chips" aria-label="Status">
      <li
        className={`chip chip-${net.state}`}
        data-testid="network-status"
        title={net.problem ?? net.rpcUrl ?? undefined}
      >
        <span aria-hidden="true">{net.state === 'connected' ? '●' : '○'}</span> {net.label}:{' '}
        {NETWORK_TEXT[net.state]}
        {net.chainId !== null && net.state === 'connected' ? ` (chain ${net.chainId})` : ''}
      </li>
      <DeviceState device={status.device} compact />
    </ul>
  );
}

export function ThemeSwitch({ theme }: { theme: Theme }) {
  return (
    <label className="theme-switch">
      <span className="visually-hidden">Theme</span>
      <select
        value={theme.choice}
        onChange={(e) => theme.set(e.target.value as ThemeChoice)}
        data-testid="theme"
      >
        <option value="system">System theme</option>
        <option value="light">Light</option>
        <option value="dark">Dark</option>
      </select>
    </label>
  );
}
