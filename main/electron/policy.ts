/**
 * The Electron security policy as pure functions and constants (CONVENTIONS §16; Signal Desktop
 * and Bitwarden's list). main.ts only wires them to Electron; the unit tests check them here,
 * since no Electron binary runs on the build machines.
 */
import type { WebPreferences } from 'electron';
import { normalize, join, sep } from 'node:path';

/** App content is served from this custom scheme, never from file://. */
export const APP_SCHEME = 'custos';
export const APP_HOST = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY = `${APP_ORIGIN}/index.html`;

/** The privileges of the app scheme: a standard, secure origin — nothing more. */
export const APP_SCHEME_PRIVILEGES = {
  standard: true,
  secure: true,
  supportFetchAPI: false,
  corsEnabled: false,
  bypassCSP: false,
  allowServiceWorkers: false,
  stream: false,
  codeCache: false,
} as const;

/** The window's web preferences. Every flag is spelled out, so a default that changes cannot weaken it. */
export function windowWebPreferences(preloadPath: string, packaged: boolean): WebPreferences {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webviewTag: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: false,
    enableWebSQL: false,
    plugins: false,
    devTools: !packaged,
    disableDialogs: false,
    autoplayPolicy: 'user-gesture-required',
    // Middle-click would otherwise open links in a new window, around setWindowOpenHandler.
    disableBlinkFeatures: 'Auxclick',
  };
}

/** The CSP of every app response: nothing but our own scripts and styles; no network at all. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "frame-src 'none'",
  "worker-src 'none'",
].join('; ');

/** Headers on every response of the app scheme. */
export function appResponseHeaders(contentType: string): Record<string, string> {
  return {
    'Content-Type': contentType,
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), usb=(), hid=(), serial=()',
  };
}

function parse(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/** True for URLs of the app's own content (the custom scheme, the app host). */
export function isAppUrl(url: string): boolean {
  const u = parse(url);
  return u !== null && u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST;
}

/** Navigation away from the app page is never allowed; the app is one page. */
export function allowNavigation(url: string): boolean {
  const u = parse(url);
  return u !== null && isAppUrl(url) && (u.pathname === '/' || u.pathname === '/index.html');
}

/** The only places `shell.openExternal` may open: https, on these exact origins. */
export const EXTERNAL_ALLOWLIST: readonly string[] = [
  'https://support.ledger.com',
  'https://www.ledger.com',
  'https://sepolia.etherscan.io',
  'https://etherscan.io',
];

export function isExternalAllowed(url: string): boolean {
  const u = parse(url);
  return (
    u !== null &&
    u.protocol === 'https:' &&
    u.username === '' &&
    u.password === '' &&
    EXTERNAL_ALLOWLIST.includes(u.origin)
  );
}

/** What `setWindowOpenHandler` does with a request: never a new window; maybe the system browser. */
export function windowOpenDecision(url: string): { action: 'deny'; openExternally: boolean } {
  return { action: 'deny', openExternally: isExternalAllowed(url) };
}

/**
 * Permission requests and checks: denied by default. From the app page only: a clipboard write
 * (Copy buttons) and notifications (a new enclave run on one of your datasets).
 */
export function allowPermission(permission: string, requestingUrl: string): boolean {
  return (
    (permission === 'clipboard-sanitized-write' || permission === 'notifications') &&
    isAppUrl(requestingUrl)
  );
}

/** The frame that sent an IPC message, as the check needs it. */
export interface SenderFrame {
  readonly url: string;
  /** null for a top-level frame. */
  readonly parent: unknown;
}

/**
 * Every IPC call is answered only when it comes from the app page's top frame, in the window that
 * Custos created (`senderId === windowContentsId`).
 */
export function isTrustedSender(
  frame: SenderFrame | null | undefined,
  senderId: number,
  windowContentsId: number | null,
): boolean {
  return (
    frame !== null &&
    frame !== undefined &&
    windowContentsId !== null &&
    senderId === windowContentsId &&
    frame.parent === null &&
    isAppUrl(frame.url)
  );
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.ico': 'image/x-icon',
};

/**
 * Maps a request of the app scheme to a file of the built renderer, or null (other host,
 * traversal, encoded separators). The caller still serves only regular files.
 */
export function resolveAppFile(
  rendererDir: string,
  requestUrl: string,
): { path: string; contentType: string } | null {
  const u = parse(requestUrl);
  if (u === null || !isAppUrl(requestUrl)) return null;
  let pathname: string;
  try {
    pathname = decodeURIComponent(u.pathname);
  } catch {
    return null;
  }
  if (pathname.includes('\0') || pathname.includes('\\')) return null;
  const relative = pathname === '/' ? 'index.html' : pathname.replace(/^\/+/, '');
  const root = normalize(rendererDir);
  const path = normalize(join(root, relative));
  if (!path.startsWith(root.endsWith(sep) ? root : root + sep)) return null;
  const ext = path.slice(path.lastIndexOf('.'));
  const contentType = TYPES[ext];
  return contentType ? { path, contentType } : null;
}

export { EVENT_CHANNEL, methodChannel } from './channels.ts';
