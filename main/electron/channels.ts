/** IPC channel names, shared by main and the preload (kept import-free: the preload stays tiny). */

/** The channel of one method: one per method, no generic invoke. */
export const methodChannel = (method: string): string => `custos:${method}`;
/** The channel of events sent to the window. */
export const EVENT_CHANNEL = 'custos:event';
