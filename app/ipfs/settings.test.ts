import { describe, expect, it } from 'vitest';
import { isCustosError } from '../errors/index.ts';
import { parseStorageSettings } from './settings.ts';

describe('storage settings', () => {
  it('defaults: no remote backend, CIDv1, 10-minute pin timeout', () => {
    expect(parseStorageSettings(undefined)).toEqual({
      kubo: [],
      pinningServices: [],
      clusters: [],
      cidVersion: 1,
      pinTimeoutSeconds: 600,
    });
  });

  it('accepts a kubo node and a pinning service', () => {
    const s = parseStorageSettings({
      kubo: [{ name: 'hospital node', apiUrl: 'http://10.0.0.5:5001' }],
      pinningServices: [
        { name: 'pinata', endpoint: 'https://api.pinata.cloud/psa', tokenRef: 'storage/pinata' },
      ],
      cidVersion: 0,
    });
    expect(s.kubo[0]?.apiUrl).toBe('http://10.0.0.5:5001');
    expect(s.cidVersion).toBe(0);
  });

  it.each([
    [{ kubo: [{ name: 'x', apiUrl: 'ftp://host' }] }, 'kubo.0.apiUrl'],
    [{ kubo: [{ name: 'x', apiUrl: 'not a url' }] }, 'kubo.0.apiUrl'],
    [
      { pinningServices: [{ name: 'p', endpoint: 'https://x', tokenRef: '' }] },
      'pinningServices.0.tokenRef',
    ],
    [{ cidVersion: 2 }, 'cidVersion'],
    [
      { clusters: [{ name: 'c', apiUrl: 'http://c', replicationMin: 3, replicationMax: 2 }] },
      'clusters.0.replicationMax',
    ],
    [
      { clusters: [{ name: 'c', apiUrl: 'http://c', replicationMin: 0, replicationMax: 2 }] },
      'clusters.0.replicationMin',
    ],
    [
      {
        clusters: [
          { name: 'c', apiUrl: 'http://c', replicationMin: 1, replicationMax: 2, user: 'u' },
        ],
      },
      'clusters.0.user',
    ],
    [
      {
        kubo: [{ name: 'same', apiUrl: 'http://a' }],
        clusters: [{ name: 'same', apiUrl: 'http://c', replicationMin: 1, replicationMax: 1 }],
      },
      '',
    ],
    [{ token: 'secret-in-settings' }, ''],
    [
      {
        kubo: [{ name: 'same', apiUrl: 'http://a' }],
        pinningServices: [{ name: 'same', endpoint: 'https://b', tokenRef: 't' }],
      },
      '',
    ],
  ])('rejects %j with UsageError naming %s', (value, path) => {
    let error: unknown;
    try {
      parseStorageSettings(value);
    } catch (e) {
      error = e;
    }
    expect(isCustosError(error, 'UsageError')).toBe(true);
    if (path) expect((error as Error).message.startsWith(`${path}:`)).toBe(true);
  });
});
