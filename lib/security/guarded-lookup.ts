import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { isGlobalAddress } from './address-policy.js';

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
  new Promise((resolve, reject) => dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))));

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
