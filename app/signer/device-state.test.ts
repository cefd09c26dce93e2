import { describe, expect, it } from 'vitest';
import { CustosError } from '../errors/index.ts';
import {
  DeviceStateMachine,
  eventForError,
  INITIAL_DEVICE_STATE,
  transition,
  type DeviceEvent,
  type DeviceState,
} from './device-state.ts';
import { errorForStatus, SW, WRONG_APP_STATUS } from './status.ts';

function run(events: DeviceEvent[]): DeviceState[] {
  const machine = new DeviceStateMachine();
  const seen: DeviceState[] = [];
  machine.subscribe((s) => seen.push(s));
  for (const e of events) machine.dispatch(e);
  return seen;
}

const A = '0x463e4e114AA57F54f2Fd2C3ec03572C6f75d84C2';

describe('device state machine', () => {
  it('starts disconnected', () => {
    expect(INITIAL_DEVICE_STATE).toEqual({ status: 'disconnected' });
  });

  it('happy path: connecting → ready → confirm → signed', () => {
    expect(
      run([
        { type: 'connect' },
        { type: 'app-ready', address: A },
        { type: 'awaiting-user', action: 'sign-typed-data', display: 'fields' },
        { type: 'signed', action: 'sign-typed-data' },
      ]),
    ).toEqual([
      { status: 'connecting' },
      { status: 'ready', address: A },
      { status: 'confirm-on-device', action: 'sign-typed-data', display: 'fields', note: null },
      { status: 'signed', action: 'sign-typed-data' },
    ]);
  });

  it('lock mid-flow, unlock, retry', () => {
    expect(
      run([
        { type: 'connect' },
        { type: 'app-ready', address: A },
        { type: 'awaiting-user', action: 'sign-transaction' },
        { type: 'locked' },
        { type: 'app-ready', address: A },
        { type: 'awaiting-user', action: 'sign-transaction' },
        { type: 'signed', action: 'sign-transaction' },
      ]).map((s) => s.status),
    ).toEqual([
      'connecting',
      'ready',
      'confirm-on-device',
      'locked',
      'ready',
      'confirm-on-device',
      'signed',
    ]);
  });

  it('unplug mid-flow, re-plug, wrong app, open it, retry', () => {
    expect(
      run([
        { type: 'connect' },
        { type: 'app-ready', address: A },
        { type: 'awaiting-user', action: 'sign-personal-message' },
        { type: 'disconnected' },
        { type: 'connect' },
        { type: 'wrong-app', app: null },
        { type: 'app-ready', address: A },
        { type: 'awaiting-user', action: 'sign-personal-message' },
        { type: 'rejected', action: 'sign-personal-message' },
      ]).map((s) => s.status),
    ).toEqual([
      'connecting',
      'ready',
      'confirm-on-device',
      'disconnected',
      'connecting',
      'wrong-app',
      'ready',
      'confirm-on-device',
      'rejected',
    ]);
  });

  it('the hashed fallback carries its note', () => {
    expect(
      transition(
        { status: 'ready', address: A },
        {
          type: 'awaiting-user',
          action: 'sign-typed-data',
          display: 'hashes',
          note: 'app too old',
        },
      ),
    ).toEqual({
      status: 'confirm-on-device',
      action: 'sign-typed-data',
      display: 'hashes',
      note: 'app too old',
    });
  });

  it('a signature without a confirmation on the device is an error state, not "signed"', () => {
    const next = transition(
      { status: 'ready', address: A },
      { type: 'signed', action: 'sign-transaction' },
    );
    expect(next.status).toBe('error');
    const other = transition(
      { status: 'confirm-on-device', action: 'verify-address', display: null, note: null },
      { type: 'signed', action: 'sign-transaction' },
    );
    expect(other.status).toBe('error');
  });

  it('repeating the same state is not announced twice', () => {
    expect(
      run([
        { type: 'app-ready', address: A },
        { type: 'app-ready', address: A },
      ]),
    ).toHaveLength(1);
  });

  it('maps tagged errors to events', () => {
    const e = (tag: ConstructorParameters<typeof CustosError>[0], details = {}) =>
      eventForError(new CustosError(tag, 'x', { details }), 'sign-transaction');
    expect(e('DeviceLocked')).toEqual({ type: 'locked' });
    expect(e('DeviceDisconnected')).toEqual({ type: 'disconnected' });
    expect(e('DeviceNotFound')).toEqual({ type: 'disconnected' });
    expect(e('WrongApp', { app: 'Bitcoin' })).toEqual({ type: 'wrong-app', app: 'Bitcoin' });
    expect(e('UserRejected')).toEqual({ type: 'rejected', action: 'sign-transaction' });
    expect(e('BlindSigningRequired')).toMatchObject({
      type: 'failed',
      error: { tag: 'BlindSigningRequired' },
    });
  });
});

describe('status words', () => {
  it('are named and map to the typed errors', () => {
    const tag = (sw: number) => errorForStatus(sw, 'here')?.tag ?? null;
    expect(tag(SW.OK)).toBeNull();
    expect(tag(0x6985)).toBe('UserRejected');
    expect(tag(0x5501)).toBe('UserRejected');
    expect(tag(0x5515)).toBe('DeviceLocked');
    expect([0x6d00, 0x6e00, 0x6511].map(tag)).toEqual(['WrongApp', 'WrongApp', 'WrongApp']);
    expect(tag(0x6a80)).toBe('DeviceError');
    expect(errorForStatus(0x6a84, 'here')?.details).toEqual({ statusWord: '0x6a84' });
    expect([...WRONG_APP_STATUS].sort()).toEqual([0x6511, 0x6d00, 0x6e00, 0x6e01].sort());
  });
});
