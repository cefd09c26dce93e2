/**
 * The Electron main process: one hardened window showing the renderer from the `custos://app`
 * scheme, the API answered over one IPC channel per method, with the sender checked on every call.
 * All security decisions live in policy.ts (unit-tested); this file wires them to Electron.
 */
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  powerMonitor,
  protocol,
  session,
  shell,
  type IpcMainInvokeEvent,
  type WebContents,
} from 'electron';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { handle, toApiError } from '../../app/api/index.ts';
import { CustosError } from '../../app/errors/index.ts';
import { METHOD_LIST } from '../../app/api/names.ts';
import { CustosService } from '../../app/service/index.ts';
import {
  allowNavigation,
  allowPermission,
  APP_ENTRY,
  APP_SCHEME,
  APP_SCHEME_PRIVILEGES,
  appResponseHeaders,
  EVENT_CHANNEL,
  isTrustedSender,
  methodChannel,
  resolveAppFile,
  windowOpenDecision,
  windowWebPreferences,
} from './policy.ts';
import { safeStorageRemember } from './remember.ts';
import { safeStorageSecrets } from './secrets.ts';

// Every file Custos creates (vault, index, remembered passphrase) is private to the user.
process.umask(0o077);

app.enableSandbox();
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: APP_SCHEME_PRIVILEGES }]);

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  void start();
}

// Built layout (electron-vite): out/main/main.js, out/preload/preload.cjs, out/renderer/.
const outDir = join(import.meta.dirname, '..');
const rendererDir = join(outDir, 'renderer');
const preloadPath = join(outDir, 'preload', 'preload.cjs');

let mainWindow: BrowserWindow | null = null;

function hardenContents(contents: WebContents): void {
  contents.on('will-navigate', (event, url) => {
    if (!allowNavigation(url)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!allowNavigation(url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    const decision = windowOpenDecision(url);
    // Only https URLs on EXTERNAL_ALLOWLIST reach this call (policy.test.ts).
    if (decision.openExternally) void shell.openExternal(url);
    return { action: decision.action };
  });
}

async function start(): Promise<void> {
  app.on('web-contents-created', (_event, contents) => hardenContents(contents));
  app.on('second-instance', () => {
    if (mainWindow) {
      if (mainWindow.isMinimized()) mainWindow.restore();
      mainWindow.focus();
    }
  });
  app.on('window-all-closed', () => app.quit());

  await app.whenReady();

  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((contents, permission, callback) =>
    callback(allowPermission(permission, contents.getURL())),
  );
  ses.setPermissionCheckHandler((_contents, permission, requestingOrigin) =>
    allowPermission(permission, requestingOrigin),
  );
  ses.setDevicePermissionHandler(() => false);
  ses.on('will-download', (event) => event.preventDefault());

  protocol.handle(APP_SCHEME, async (request) => {
    const file = resolveAppFile(rendererDir, request.url);
    if (
      !file ||
      !(await stat(file.path).then(
        (s) => s.isFile(),
        () => false,
      ))
    ) {
      return new Response('not found', { status: 404, headers: appResponseHeaders('text/plain') });
    }
    return new Response(await readFile(file.path), {
      status: 200,
      headers: appResponseHeaders(file.contentType),
    });
  });

  const service = new CustosService({
    vaultDir: join(app.getPath('userData'), 'vault'),
    remember: safeStorageRemember(app.getPath('userData')),
    secrets: safeStorageSecrets(app.getPath('userData')),
    chooseFile: async () => {
      if (!mainWindow) return null;
      const picked = await dialog.showOpenDialog(mainWindow, {
        title: 'Choose the dataset file to import',
        properties: ['openFile'],
        filters: [
          { name: 'CSV tables', extensions: ['csv'] },
          { name: 'All files', extensions: ['*'] },
        ],
      });
      return picked.canceled ? null : (picked.filePaths[0] ?? null);
    },
  });
  for (const method of METHOD_LIST) {
    ipcMain.handle(methodChannel(method), (event: IpcMainInvokeEvent, input: unknown) => {
      const trusted = isTrustedSender(
        event.senderFrame,
        event.sender.id,
        mainWindow?.webContents.id ?? null,
      );
      if (!trusted) {
        const refused = new CustosError('PermissionDenied', 'IPC from an untrusted frame');
        return { ok: false, error: toApiError(refused) };
      }
      return handle(service.handlers, method, input);
    });
  }
  service.onEvent((event, payload) => {
    mainWindow?.webContents.send(EVENT_CHANNEL, { event, payload });
  });
  // Lock when the screen locks or the machine sleeps, as a password manager does.
  powerMonitor.on('lock-screen', () => void service.lock());
  powerMonitor.on('suspend', () => void service.lock());
  app.on('before-quit', () => void service.close());

  mainWindow = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 900,
    minHeight: 600,
    show: false,
    title: 'Custos',
    backgroundColor: '#f6f7f9',
    webPreferences: {
      ...windowWebPreferences(preloadPath, app.isPackaged),
      // Restated literally so static checkers (electronegativity) can see them; policy.test.ts
      // pins the same values in windowWebPreferences.
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webviewTag: false,
      disableBlinkFeatures: 'Auxclick',
    },
  });
  mainWindow.once('ready-to-show', () => mainWindow?.show());
  mainWindow.on('closed', () => {
    mainWindow = null;
  });
  await mainWindow.loadURL(APP_ENTRY);
}
