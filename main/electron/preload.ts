/**
 * The preload (sandboxed, bundled as CommonJS): exposes to the page exactly the contract's methods
 * as `window.custos`, one IPC channel each, plus `on(event, listener)`. No generic invoke, no
 * ipcRenderer, no Node: the page gets functions that take plain data and return plain data.
 * Calls resolve to `ApiResult` data (errors do not survive contextBridge with their tag).
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { EVENT_LIST, METHOD_LIST } from '../../app/api/names.ts';
import { EVENT_CHANNEL, methodChannel } from './channels.ts';

const methods = Object.fromEntries(
  METHOD_LIST.map((name) => [
    name,
    (input: unknown): Promise<unknown> => ipcRenderer.invoke(methodChannel(name), input ?? {}),
  ]),
);

const events: ReadonlySet<string> = new Set(EVENT_LIST);

function on(event: string, listener: (payload: unknown) => void): () => void {
  if (!events.has(event) || typeof listener !== 'function') return () => undefined;
  const handler = (_e: IpcRendererEvent, message: { event: string; payload: unknown }) => {
    if (message.event === event) listener(message.payload);
  };
  ipcRenderer.on(EVENT_CHANNEL, handler);
  return () => {
    ipcRenderer.removeListener(EVENT_CHANNEL, handler);
  };
}

contextBridge.exposeInMainWorld('custos', Object.freeze({ ...methods, on }));
