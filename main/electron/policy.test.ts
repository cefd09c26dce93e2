import { describe, expect, it } from 'vitest';
import {
  allowNavigation,
  allowPermission,
  APP_ENTRY,
  APP_SCHEME_PRIVILEGES,
  appResponseHeaders,
  CONTENT_SECURITY_POLICY,
  isAppUrl,
  isExternalAllowed,
  isTrustedSender,
  resolveAppFile,
  windowOpenDecision,
  windowWebPreferences,
} from './policy.ts';

describe('window web preferences', () => {
  const prefs = windowWebPreferences('/app/out/preload/preload.cjs', true);

  it('isolate and sandbox the page, with no Node, no webviews and no insecure content', () => {
    expect(prefs).toMatchObject({
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
      plugins: false,
      disableBlinkFeatures: 'Auxclick',
      preload: '/app/out/preload/preload.cjs',
    });
    expect(prefs).not.toHaveProperty('enableBlinkFeatures');
    expect(prefs).not.toHaveProperty('additionalArguments');
  });

  it('close the dev tools in a packaged build', () => {
    expect(prefs.devTools).toBe(false);
    expect(windowWebPreferences('/p', false).devTools).toBe(true);
  });
});

describe('content security policy', () => {
  it('starts from default-src none and allows no inline code, no eval and no network', () => {
    const directives = new Map(
      CONTENT_SECURITY_POLICY.split(';').map((d) => {
        const [name, ...values] = d.trim().split(/\s+/);
        return [name, values] as const;
      }),
    );
    expect(CONTENT_SECURITY_POLICY.startsWith("default-src 'none'")).toBe(true);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('connect-src')).toEqual(["'none'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-(inline|eval)|\*|http:|https:/);
  });

  it('is sent with every app response', () => {
    expect(appResponseHeaders('text/html')['Content-Security-Policy']).toBe(
      CONTENT_SECURITY_POLICY,
    );
    expect(appResponseHeaders('text/html')['X-Content-Type-Options']).toBe('nosniff');
  });

  it('is not bypassed by the app scheme, which has no extra powers', () => {
    expect(APP_SCHEME_PRIVILEGES).toMatchObject({
      standard: true,
      secure: true,
      bypassCSP: false,
      supportFetchAPI: false,
      corsEnabled: false,
      allowServiceWorkers: false,
    });
  });
});

describe('navigation, new windows, external links', () => {
  it('allows only the app page itself', () => {
    expect(isAppUrl(APP_ENTRY)).toBe(true);
    expect(allowNavigation(APP_ENTRY)).toBe(true);
    expect(allowNavigation('custos://app/')).toBe(true);
    for (const url of [
      'https://example.org/',
      'file:///etc/passwd',
      'custos://other/index.html',
      'custos://app/assets/x.js',
      'javascript:alert(1)',
      'data:text/html,<b>x</b>',
      'not a url',
    ]) {
      expect(allowNavigation(url), url).toBe(false);
    }
  });

  it('never opens a new window; opens only allowlisted https origins in the browser', () => {
    expect(windowOpenDecision('https://support.ledger.com/article/1')).toEqual({
      action: 'deny',
      openExternally: true,
    });
    for (const url of [
      'http://support.ledger.com/',
      'https://support.ledger.com.evil.example/',
      'https://user:pw@support.ledger.com/',
      'file:///etc/passwd',
      'smb://share/x',
      'custos://app/index.html',
    ]) {
      expect(isExternalAllowed(url), url).toBe(false);
      expect(windowOpenDecision(url)).toEqual({ action: 'deny', openExternally: false });
    }
  });
});

describe('permissions', () => {
  it('denies by default, from any origin', () => {
    for (const permission of [
      'media',
      'geolocation',
      'midi',
      'hid',
      'serial',
      'usb',
      'openExternal',
      'clipboard-read',
      'fullscreen',
      'pointerLock',
    ]) {
      expect(allowPermission(permission, APP_ENTRY), permission).toBe(false);
    }
    for (const permission of ['clipboard-sanitized-write', 'notifications']) {
      expect(allowPermission(permission, APP_ENTRY), permission).toBe(true);
      expect(allowPermission(permission, 'https://example.org/'), permission).toBe(false);
    }
  });
});

describe('IPC sender check', () => {
  const top = { url: APP_ENTRY, parent: null };
  it('answers only the app page top frame of the Custos window', () => {
    expect(isTrustedSender(top, 7, 7)).toBe(true);
    expect(isTrustedSender(top, 8, 7)).toBe(false);
    expect(isTrustedSender(top, 7, null)).toBe(false);
    expect(isTrustedSender({ url: APP_ENTRY, parent: {} }, 7, 7)).toBe(false);
    expect(isTrustedSender({ url: 'https://example.org/', parent: null }, 7, 7)).toBe(false);
    expect(isTrustedSender(null, 7, 7)).toBe(false);
  });
});

describe('app scheme files', () => {
  it('serve the renderer and nothing outside it', () => {
    expect(resolveAppFile('/r', 'custos://app/')).toEqual({
      path: '/r/index.html',
      contentType: 'text/html; charset=utf-8',
    });
    expect(resolveAppFile('/r', 'custos://app/assets/a.js')?.path).toBe('/r/assets/a.js');
    // The URL parser already folds dot segments inside the root; encoded ones must not escape it.
    expect(resolveAppFile('/r', 'custos://app/../x.js')?.path).toBe('/r/x.js');
    for (const url of [
      'custos://app/%2e%2e/secret.js',
      'custos://app/assets/%2e%2e/%2e%2e/secret.js',
      'custos://app/assets/%2E%2E%2F%2E%2E%2Fsecret.js',
    ]) {
      const file = resolveAppFile('/r', url);
      expect(file === null || file.path.startsWith('/r/'), url).toBe(true);
    }
    for (const url of [
      'custos://app/a%5c..%5csecret.js',
      'custos://app/a%00.js',
      'custos://other/index.html',
      'custos://app/keyring.json',
      'custos://app/%E0%A4%A',
    ]) {
      expect(resolveAppFile('/r', url), url).toBeNull();
    }
  });
});
