import type { LookupAddress } from 'node:dns';
import { guardedLookup, HOST_REFUSED_MESSAGE, HostRefusedError, type HostResolver } from './guarded-lookup.js';

interface Looked {
  error: Error | null;
  address?: string | LookupAddress[];
  family?: number;
}

function look(resolver: HostResolver, hostname: string, options: { family?: number; all?: boolean } = {}): Promise<Looked> {
  const lookup = guardedLookup(resolver);
  return new Promise((resolve) => {
    lookup(hostname, options as any, (error: Error | null, address?: any, family?: number) => resolve({ error, address, family }));
  });
}

const answers = (records: Record<string, LookupAddress[]>): HostResolver => async (hostname) => {
  if (!records[hostname]) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  return records[hostname];
};

const dns = answers({
  'internal.corp': [{ address: '10.20.30.40', family: 4 }],
  'mixed.example': [
    { address: '93.184.216.34', family: 4 },
    { address: 'fd00::5', family: 6 },
  ],
  'public.example': [
    { address: '93.184.216.34', family: 4 },
    { address: '2606:2800:220:1:248:1893:25c8:1946', family: 6 },
  ],
});

describe('guardedLookup', () => {
  it('refuses a name that resolves inward and one that does not resolve with the same message, keeping the detail apart', async () => {
    const inward = await look(dns, 'internal.corp');
    const missing = await look(dns, 'nowhere.corp');
    for (const { error } of [inward, missing]) {
      expect(error).toBeInstanceOf(HostRefusedError);
      expect(error!.message).toBe(HOST_REFUSED_MESSAGE);
      expect(error!.message).not.toMatch(/corp|10\.20/);
    }
    expect((inward.error as HostRefusedError).detail).toBe('internal.corp resolves to 10.20.30.40, not a public address');
    expect((missing.error as HostRefusedError).detail).toBe('nowhere.corp did not resolve: getaddrinfo ENOTFOUND nowhere.corp');
  });

  it('refuses a name when any one of its addresses is not global, naming those', async () => {
    const { error } = await look(dns, 'mixed.example');
    expect((error as HostRefusedError).detail).toBe('mixed.example resolves to fd00::5, not a public address');
  });

  it.each<[string, HostResolver, string]>([
    ['an empty answer', async () => [], 'x.example resolved to no address'],
    [
      'an answer that is not an array',
      async () => ({ address: '1.1.1.1' }) as any,
      'security.resolveHost returned {"address":"1.1.1.1"} for x.example, not [{ address, family }]',
    ],
    ['an entry without an address', async () => [{ family: 4 }] as any, 'x.example resolves to undefined, not a public address'],
    [
      'a resolver that throws synchronously',
      () => {
        throw new Error('resolver exploded');
      },
      'x.example did not resolve: resolver exploded',
    ],
    [
      'a resolver error with a code',
      async () => Promise.reject(Object.assign(new Error('queryA timed out'), { code: 'ETIMEOUT' })),
      'x.example did not resolve: ETIMEOUT: queryA timed out',
    ],
  ])('refuses %s with the generic message', async (_, resolver, detail) => {
    const { error } = await look(resolver, 'x.example');
    expect(error).toBeInstanceOf(HostRefusedError);
    expect(error!.message).toBe(HOST_REFUSED_MESSAGE);
    expect((error as HostRefusedError).detail).toBe(detail);
  });

  it('pins the connection to the vetted addresses, per family when asked', async () => {
    expect(await look(dns, 'public.example')).toEqual({ error: null, address: '93.184.216.34', family: 4 });
    const v6 = '2606:2800:220:1:248:1893:25c8:1946';
    expect(await look(dns, 'public.example', { family: 6 })).toEqual({ error: null, address: v6, family: 6 });
    expect(await look(dns, 'public.example', { all: true })).toEqual({
      error: null,
      address: [
        { address: '93.184.216.34', family: 4 },
        { address: '2606:2800:220:1:248:1893:25c8:1946', family: 6 },
      ],
      family: undefined,
    });
    const v4Only = answers({ 'v4.example': [{ address: '93.184.216.34', family: 4 }] });
    expect(((await look(v4Only, 'v4.example', { family: 6 })).error as HostRefusedError).detail).toBe('v4.example has no IPv6 address');
  });
});
