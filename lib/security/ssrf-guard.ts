import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/*
 * The SSRF guard: a webhook must never reach an address that is not globally routable unicast
 * unless the host allows private networks. Literals and `localhost` are judged as typed, at
 * registration and at send time; host names are resolved by us at send time, every answer vetted,
 * and the connection pinned to the vetted addresses.
 */
/**
 * Ranges a webhook must never reach unless the host allows private networks: everything that is not
 * globally routable unicast (IANA special-purpose registries), plus the cloud metadata address.
 */
const NON_GLOBAL_V4 = [
  ['0.0.0.0', 8], // "this network"; 0.0.0.0 connects to localhost on Linux
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // CGNAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, includes 169.254.169.254 metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved and broadcast
] as const;

const NON_GLOBAL_V6 = [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b:1::', 48], // local-use NAT64 (RFC 8215): translated by the site's own gateway, so never judged by its IPv4
  ['100::', 64],
  ['2001::', 23], // IETF protocol assignments, Teredo included
  ['2001:db8::', 32],
  ['3fff::', 20], // documentation (RFC 9637)
  ['5f00::', 16], // segment routing SIDs (RFC 9602)
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // old site-local
  ['ff00::', 8], // multicast
] as const;

const blocked = new BlockList();
for (const [network, prefix] of NON_GLOBAL_V4) blocked.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of NON_GLOBAL_V6) blocked.addSubnet(network, prefix, 'ipv6');

/** True when `address` is a globally routable unicast IP, i.e. safe to let a webhook reach. */
export function isGlobalAddress(address: string): boolean {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const family = isIP(bare);
  if (family === 4) return !blocked.check(bare, 'ipv4');
  if (family !== 6) return false;
  const embedded = embeddedIpv4(bare);
  if (embedded !== null) return isGlobalAddress(embedded);
  return !blocked.check(bare, 'ipv6');
}

/**
 * IPv4 carried inside IPv6 (mapped `::ffff:a.b.c.d`, translated `::ffff:0:a.b.c.d`, compatible
 * `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) reaches that IPv4 host, so it is judged as
 * that IPv4 address.
 */
function embeddedIpv4(ipv6: string): string | null {
  const groups = expandIpv6(ipv6);
  if (!groups) return null;
  const asV4 = (high: number, low: number) => `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
  const zeros = (from: number, to: number) => groups.slice(from, to).every((g) => g === 0);
  if (zeros(0, 5) && groups[5] === 0xffff) return asV4(groups[6], groups[7]);
  if (zeros(0, 4) && groups[4] === 0xffff && groups[5] === 0) return asV4(groups[6], groups[7]); // SIIT (RFC 2765)
  if (zeros(0, 6) && (groups[6] !== 0 || groups[7] > 1)) return asV4(groups[6], groups[7]);
  if (groups[0] === 0x64 && groups[1] === 0xff9b && zeros(2, 6)) return asV4(groups[6], groups[7]);
  if (groups[0] === 0x2002) return asV4(groups[1], groups[2]);
  return null;
}

function expandIpv6(address: string): number[] | null {
  let text = address.split('%')[0];
  const dotted = text.match(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number);
    text = text.slice(0, dotted.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const parse = (part: string | undefined) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  const right = parse(tail);
  const fill = tail === undefined ? 0 : 8 - left.length - right.length;
  const groups = [...left, ...new Array(Math.max(fill, 0)).fill(0), ...right];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}

/**
 * The non-public address an endpoint's host names without any lookup, or null: an IP literal that is
 * not global, or a `localhost` name (loopback by definition, RFC 6761, whatever a resolver says).
 * WHATWG URL parsing has already turned `127.1`, `2130706433` and `0x7f000001` into dotted IPv4.
 * `net.connect` skips the lookup for literals, so the send-time guard checks them here too.
 */
export function privateHostLiteral(hostname: string): string | null {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return '127.0.0.1';
  const bare = host.replace(/^\[|\]$/g, '');
  return isIP(bare) !== 0 && !isGlobalAddress(bare) ? bare : null;
}

export type HostResolver = (hostname: string) => Promise<LookupAddress[]>;

/**
 * What a tenant is told about a refused host name: one text whether the name resolved to a private
 * address or did not resolve at all, so that delivery errors cannot be used to map which internal
 * names exist or where they point.
 */
export const HOST_REFUSED_MESSAGE = 'refused by the network policy: the host name did not resolve to an allowed public address';

/** An IP literal or `localhost` the tenant typed: telling them why gives nothing away. */
export class PrivateAddressError extends Error {
  readonly code = 'ERR_WEBHOOK_PRIVATE_ADDRESS';

  constructor(hostname: string, address: string) {
    super(
      hostname === address
        ? `refused to connect to ${address}: not a public address (security.allowPrivateNetworks is off)`
        : `refused to connect to ${hostname}: it resolves to ${address}, not a public address (security.allowPrivateNetworks is off)`,
    );
  }
}

/**
 * A host name refused at send time. `message` is the generic text the tenant sees; `detail` (the
 * name, its addresses or the resolver's error) is for the host's logs only.
 */
export class HostRefusedError extends Error {
  readonly code = 'ERR_WEBHOOK_HOST_REFUSED';

  constructor(readonly detail: string) {
    super(HOST_REFUSED_MESSAGE);
  }
}

export const systemResolver: HostResolver = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))),
  );

/**
 * A `net.connect` lookup that resolves the name itself and refuses it when any answer is non-global,
 * or when there is no answer. The socket then connects to exactly the addresses vetted here, so a
 * second, different DNS answer (rebinding) cannot slip in between the check and the connection.
 */
export function guardedLookup(resolver: HostResolver): LookupFunction {
  return (hostname, options, callback) => {
    const refuse = (detail: string) => callback(new HostRefusedError(detail), '', 0);
    Promise.resolve()
      .then(() => resolver(hostname))
      .then(
        (answer: unknown) => {
          if (!Array.isArray(answer)) {
            return refuse(`security.resolveHost returned ${describeAnswer(answer)} for ${hostname}, not [{ address, family }]`);
          }
          const addresses = answer as LookupAddress[];
          if (addresses.length === 0) return refuse(`${hostname} resolved to no address`);
          const refused = addresses.filter((a) => typeof a?.address !== 'string' || !isGlobalAddress(a.address));
          if (refused.length > 0) {
            return refuse(`${hostname} resolves to ${refused.map((a) => describeAnswer(a?.address)).join(', ')}, not a public address`);
          }
          const family = options.family === 4 || options.family === 6 ? options.family : 0;
          const candidates = family ? addresses.filter((a) => a.family === family) : addresses;
          if (candidates.length === 0) return refuse(`${hostname} has no IPv${family} address`);
          if (options.all) return (callback as any)(null, candidates);
          callback(null, candidates[0].address, candidates[0].family);
        },
        (error: unknown) => {
          const code = (error as { code?: unknown })?.code;
          const message = (error as Error)?.message ?? String(error);
          refuse(`${hostname} did not resolve: ${typeof code === 'string' && !message.includes(code) ? `${code}: ` : ''}${message}`);
        },
      );
  };
}

function describeAnswer(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
