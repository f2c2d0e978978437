import type { LookupAddress } from 'node:dns';
import {
  guardedLookup,
  HOST_REFUSED_MESSAGE,
  HostRefusedError,
  isGlobalAddress,
  privateHostLiteral,
  type HostResolver,
} from './ssrf-guard.js';
/** Each non-global range with its first and last address; the neighbours outside it are global. */
const IPV4_RANGES: Array<[range: string, first: string, last: string, before: string | null, after: string | null]> = [
  ['0.0.0.0/8', '0.0.0.0', '0.255.255.255', null, '1.0.0.0'],
  ['10.0.0.0/8', '10.0.0.0', '10.255.255.255', '9.255.255.255', '11.0.0.0'],
  ['100.64.0.0/10', '100.64.0.0', '100.127.255.255', '100.63.255.255', '100.128.0.0'],
  ['127.0.0.0/8', '127.0.0.0', '127.255.255.255', '126.255.255.255', '128.0.0.0'],
  ['169.254.0.0/16', '169.254.0.0', '169.254.255.255', '169.253.255.255', '169.255.0.0'],
  ['172.16.0.0/12', '172.16.0.0', '172.31.255.255', '172.15.255.255', '172.32.0.0'],
  ['192.0.0.0/24', '192.0.0.0', '192.0.0.255', '191.255.255.255', '192.0.1.0'],
  ['192.0.2.0/24', '192.0.2.0', '192.0.2.255', '192.0.1.255', '192.0.3.0'],
  ['192.88.99.0/24', '192.88.99.0', '192.88.99.255', '192.88.98.255', '192.88.100.0'],
  ['192.168.0.0/16', '192.168.0.0', '192.168.255.255', '192.167.255.255', '192.169.0.0'],
  ['198.18.0.0/15', '198.18.0.0', '198.19.255.255', '198.17.255.255', '198.20.0.0'],
  ['198.51.100.0/24', '198.51.100.0', '198.51.100.255', '198.51.99.255', '198.51.101.0'],
  ['203.0.113.0/24', '203.0.113.0', '203.0.113.255', '203.0.112.255', '203.0.114.0'],
  ['224.0.0.0/4', '224.0.0.0', '239.255.255.255', '223.255.255.255', null],
  ['240.0.0.0/4', '240.0.0.0', '255.255.255.255', null, null],
];

const IPV6_RANGES: Array<[range: string, first: string, last: string, before: string | null, after: string | null]> = [
  ['::/128', '::', '::', null, null],
  ['::1/128', '::1', '::1', null, null],
  ['64:ff9b:1::/48', '64:ff9b:1::', '64:ff9b:1:ffff:ffff:ffff:ffff:ffff', '64:ff9b:0:ffff:ffff:ffff:ffff:ffff', '64:ff9b:2::'],
  ['100::/64', '100::', '100::ffff:ffff:ffff:ffff', 'ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', '100:0:0:1::'],
  ['2001::/23', '2001::', '2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff', '2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff', '2001:200::'],
  ['2001:db8::/32', '2001:db8::', '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', '2001:db7:ffff:ffff:ffff:ffff:ffff:ffff', '2001:db9::'],
  ['3fff::/20', '3fff::', '3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff', '3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff', '3fff:1000::'],
  ['5f00::/16', '5f00::', '5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff', '5eff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', '5f01::'],
  ['fc00::/7', 'fc00::', 'fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', null],
  ['fe80::/10', 'fe80::', 'febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff', null],
  ['fec0::/10', 'fec0::', 'feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', null, null],
  ['ff00::/8', 'ff00::', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', null, null],
];

describe('isGlobalAddress', () => {
  describe.each([...IPV4_RANGES, ...IPV6_RANGES])('%s', (_, first, last, before, after) => {
    it(`refuses its first address ${first} and its last ${last}`, () => {
      expect([first, isGlobalAddress(first)]).toEqual([first, false]);
      expect([last, isGlobalAddress(last)]).toEqual([last, false]);
    });

    const outside = [before, after].filter((address): address is string => address !== null);
    if (outside.length > 0) {
      it(`accepts the addresses just outside it: ${outside.join(', ')}`, () => {
        for (const address of outside) expect([address, isGlobalAddress(address)]).toEqual([address, true]);
      });
    }
  });

  // Every form that carries an IPv4 address is judged as that IPv4 address.
  const EMBEDDED: Array<[form: string, wrap: (v4: string) => string]> = [
    ['mapped ::ffff:0:0/96', (v4) => `::ffff:${v4}`],
    ['translated ::ffff:0:0:0/96 (SIIT)', (v4) => `::ffff:0:${v4}`],
    ['compatible ::/96', (v4) => `::${v4}`],
    ['NAT64 well-known 64:ff9b::/96', (v4) => `64:ff9b::${v4}`],
  ];

  describe.each(EMBEDDED)('IPv4 %s', (_, wrap) => {
    it.each(['127.0.0.1', '10.0.0.1', '169.254.169.254', '192.168.1.1', '100.64.0.1', '0.0.0.0', '255.255.255.255', '224.0.0.1'])(
      'refuses a non-global IPv4 inside: %s',
      (v4) => {
        expect(isGlobalAddress(wrap(v4))).toBe(false);
      },
    );

    it.each(['8.8.8.8', '93.184.216.34', '1.1.1.1'])('accepts a global IPv4 inside: %s', (v4) => {
      expect(isGlobalAddress(wrap(v4))).toBe(true);
    });
  });

  it('reads the hex spelling of an embedded IPv4 like the dotted one', () => {
    expect(isGlobalAddress('::ffff:7f00:1')).toBe(false);
    expect(isGlobalAddress('::ffff:0:7f00:1')).toBe(false);
    expect(isGlobalAddress('0:0:0:0:ffff:0:a00:1')).toBe(false);
    expect(isGlobalAddress('::ffff:0:808:808')).toBe(true);
    expect(isGlobalAddress('64:ff9b::7f00:1')).toBe(false);
    expect(isGlobalAddress('64:ff9b::808:808')).toBe(true);
  });

  it('judges the IPv4 of 6to4 2002::/16', () => {
    expect(isGlobalAddress('2002:7f00:1::')).toBe(false);
    expect(isGlobalAddress('2002:a9fe:a9fe::1')).toBe(false);
    expect(isGlobalAddress('2002:808:808::1')).toBe(true);
  });

  it('refuses local-use NAT64 64:ff9b:1::/48 whatever IPv4 it carries', () => {
    expect(isGlobalAddress('64:ff9b:1::808:808')).toBe(false);
    expect(isGlobalAddress('64:ff9b:1::8.8.8.8')).toBe(false);
    expect(isGlobalAddress('64:ff9b:1:abcd::5db8:d822')).toBe(false);
  });

  it('leaves the IPv4-translated range at its edges', () => {
    // 0:0:0:0:ffff:0::/96 is translated; its neighbours 0:0:0:0:fffe:ffff:… and 0:0:0:0:ffff:1:… are not.
    expect(isGlobalAddress('::ffff:0:0:0')).toBe(false); // 0.0.0.0
    expect(isGlobalAddress('::ffff:0:ffff:ffff')).toBe(false); // 255.255.255.255
    expect(isGlobalAddress('::ffff:0:808:808')).toBe(true);
    expect(isGlobalAddress('::ffff:1:7f00:1')).toBe(true);
    expect(isGlobalAddress('::fffe:ffff:7f00:1')).toBe(true);
  });

  it.each(['[::1]', '[::ffff:127.0.0.1]', 'fe80::1%eth0'])('reads brackets and zone ids: refuses %s', (address) => {
    expect(isGlobalAddress(address)).toBe(false);
  });

  const notIps = ['not-an-ip', '', 'localhost', '127.1', '2130706433', '::ffff:127.0.0.1.1', '1:2:3:4:5:6:7:8:9'];
  it.each(notIps)('refuses what is not an IP address: %p', (address) => {
    expect(isGlobalAddress(address)).toBe(false);
  });

  const globals = ['93.184.216.34', '8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '2a00:1450:4001:82a::200e'];
  it.each(globals)('accepts the global address %s', (address) => {
    expect(isGlobalAddress(address)).toBe(true);
  });
});

describe('privateHostLiteral', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['[::1]', '::1'],
    ['10.0.0.8', '10.0.0.8'],
    ['localhost', '127.0.0.1'],
    ['api.localhost.', '127.0.0.1'],
    ['LOCALHOST', '127.0.0.1'],
  ])('names the non-public address of %s without a lookup', (host, address) => {
    expect(privateHostLiteral(host)).toBe(address);
  });

  it.each(['example.com', '93.184.216.34', '[2606:4700:4700::1111]', 'internal.corp'])('leaves %s to the resolver or allows it', (host) => {
    expect(privateHostLiteral(host)).toBeNull();
  });
});

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

const answers =
  (records: Record<string, LookupAddress[]>): HostResolver =>
  async (hostname) => {
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
