import type { CustosError, ErrorTag, SerializedError } from '../errors/index.ts';

/**
 * What the Ledger is doing, as one value the UI renders. Every failure is a state with a retry,
 * never a dead end: lock → unlock → retry, unplug → plug → retry, wrong app → open it → retry.
 */

export type DeviceAction =
  'verify-address' | 'sign-typed-data' | 'sign-transaction' | 'sign-personal-message';

/** How the device presents the request: every field (clear signing) or only two hashes. */
export type TypedDataDisplay = 'fields' | 'hashes';

export type DeviceState =
  | { readonly status: 'disconnected' }
  | { readonly status: 'connecting' }
  | { readonly status: 'locked' }
  | { readonly status: 'wrong-app'; readonly app: string | null }
  | { readonly status: 'ready'; readonly address: string | null }
  | {
      readonly status: 'confirm-on-device';
      readonly action: DeviceAction;
      /** Only for typed data: 'hashes' when the device cannot show the fields (the fallback). */
      readonly display: TypedDataDisplay | null;
      /** Why the device shows hashes instead of fields, in the steward's words. */
      readonly note: string | null;
    }
  | { readonly status: 'signed'; readonly action: DeviceAction }
  | { readonly status: 'rejected'; readonly action: DeviceAction }
  | { readonly status: 'error'; readonly error: SerializedError };

export type DeviceEvent =
  | { readonly type: 'connect' }
  | { readonly type: 'app-ready'; readonly address: string | null }
  | { readonly type: 'locked' }
  | { readonly type: 'wrong-app'; readonly app: string | null }
  | { readonly type: 'disconnected' }
  | {
      readonly type: 'awaiting-user';
      readonly action: DeviceAction;
      readonly display?: TypedDataDisplay;
      readonly note?: string;
    }
  | { readonly type: 'signed'; readonly action: DeviceAction }
  | { readonly type: 'rejected'; readonly action: DeviceAction }
  | { readonly type: 'failed'; readonly error: SerializedError };

export const INITIAL_DEVICE_STATE: DeviceState = { status: 'disconnected' };

/** The pure transition function: next state from a state and an event. */
export function transition(state: DeviceState, event: DeviceEvent): DeviceState {
  switch (event.type) {
    case 'connect':
      return { status: 'connecting' };
    case 'app-ready':
      return { status: 'ready', address: event.address };
    case 'locked':
      return { status: 'locked' };
    case 'wrong-app':
      return { status: 'wrong-app', app: event.app };
    case 'disconnected':
      return { status: 'disconnected' };
    case 'awaiting-user':
      return {
        status: 'confirm-on-device',
        action: event.action,
        display: event.display ?? null,
        note: event.note ?? null,
      };
    case 'signed':
      // A signature only ever follows a confirmation the user was shown.
      return state.status === 'confirm-on-device' && state.action === event.action
        ? { status: 'signed', action: event.action }
        : {
            status: 'error',
            error: {
              tag: 'Internal',
              message: 'signature without a confirmation on the device',
              details: {},
            },
          };
    case 'rejected':
      return { status: 'rejected', action: event.action };
    case 'failed':
      return { status: 'error', error: event.error };
  }
}

/** The event a failure with this tag produces. */
export function eventForError(error: CustosError, action: DeviceAction | null): DeviceEvent {
  const byTag: Partial<Record<ErrorTag, DeviceEvent>> = {
    DeviceLocked: { type: 'locked' },
    DeviceDisconnected: { type: 'disconnected' },
    DeviceNotFound: { type: 'disconnected' },
    WrongApp: {
      type: 'wrong-app',
      app: typeof error.details['app'] === 'string' ? error.details['app'] : null,
    },
  };
  if (error.tag === 'UserRejected' && action !== null) return { type: 'rejected', action };
  return byTag[error.tag] ?? { type: 'failed', error: error.toJSON() };
}

export type DeviceStateListener = (state: DeviceState, event: DeviceEvent) => void;

/** Holds the current state, applies events and tells subscribers. */
export class DeviceStateMachine {
  private current: DeviceState = INITIAL_DEVICE_STATE;
  private readonly listeners = new Set<DeviceStateListener>();

  get state(): DeviceState {
    return this.current;
  }

  /** Applies an event; listeners hear only real changes (ready → ready is silent). */
  dispatch(event: DeviceEvent): DeviceState {
    const next = transition(this.current, event);
    if (JSON.stringify(next) === JSON.stringify(this.current)) return this.current;
    this.current = next;
    for (const listener of this.listeners) listener(this.current, event);
    return this.current;
  }

  /** Calls `listener` on every change; returns the unsubscribe function. */
  subscribe(listener: DeviceStateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
