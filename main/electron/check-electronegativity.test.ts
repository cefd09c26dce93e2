import { describe, expect, it } from 'vitest';
import { isAccepted, parseFindings, wellFormed } from './check-electronegativity.ts';

const HEADER = 'issue, severity, confidence, filename, location, sample, description, url\n';

describe('electronegativity gate', () => {
  it('reads quoted fields holding commas and line breaks', () => {
    const findings = parseFindings(
      `${HEADER}CSP_GLOBAL_CHECK,"LOW","FIRM","renderer/index.html","8:0","default-src 'none'; script-src 'self';\n img-src 'self'","weak, maybe",https://x\n`,
    );
    expect(findings).toHaveLength(1);
    expect(findings[0]?.[5]).toBe("default-src 'none'; script-src 'self';\n img-src 'self'");
    expect(findings[0]?.[6]).toBe('weak, maybe');
  });

  it('accepts only a reviewed finding in its exact place, never another check or file', () => {
    const open = (file: string, sample: string) =>
      parseFindings(
        `${HEADER}OPEN_EXTERNAL_JS_CHECK,"MEDIUM","TENTATIVE","${file}","69:38","${sample}","Review",u\n`,
      )[0] ?? [];
    const call = 'if (decision.openExternally) void shell.openExternal(url);';
    expect(isAccepted(open('main.ts', call))).toBe(true);
    expect(isAccepted(open('preload.ts', call))).toBe(false);
    expect(isAccepted(open('main.ts', 'shell.openExternal(anything)'))).toBe(false);
    const sandbox = parseFindings(
      `${HEADER}SANDBOX_JS_CHECK,"MEDIUM","FIRM","main.ts","138:15","new BrowserWindow({","Use sandbox",u\n`,
    )[0];
    expect(isAccepted(sandbox ?? [])).toBe(false);
  });

  it('tells a garbled scan (as electronegativity sometimes writes it) from a well-formed one', () => {
    const open = `OPEN_EXTERNAL_JS_CHECK,"MEDIUM","TENTATIVE","main.ts","70:38","shell.openExternal(url);","Review",https://y\n`;
    const garbled = parseFindings(
      `${HEADER}ne'; script-src 'self'; form-action 'none'","One or more CSP directives detected seems to be vulnerable",https://x\n${open}`,
    );
    expect(garbled.every(wellFormed)).toBe(false);
    const clean = parseFindings(
      `${HEADER}CSP_GLOBAL_CHECK,"LOW","FIRM","renderer/index.html","8:0","default-src 'none'","weak",https://x\n${open}`,
    );
    expect(clean).toHaveLength(2);
    expect(clean.every(wellFormed)).toBe(true);
  });
});
