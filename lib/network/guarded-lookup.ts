import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { isGlobalAddress } from './address-policy.js';

export type HostResolver = (hostname: string) => Promise<LookupAddress[]>;

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

export const systemResolver: HostResolver = (hostname) =>
  new Promise((resolve, reject) => dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))));

/**
 * A `net.connect` lookup that resolves the name itself and refuses it when any answer is non-global.
 * The socket then connects to exactly the addresses vetted here, so a second, different DNS answer
 * (rebinding) cannot slip in between the check and the connection.
 */
export function guardedLookup(resolver: HostResolver): LookupFunction {
  return (hostname, options, callback) => {
    resolver(hostname).then(
      (addresses) => {
        const family = options.family === 4 || options.family === 6 ? options.family : 0;
        const candidates = family ? addresses.filter((a) => a.family === family) : addresses;
        const refused = addresses.find((a) => !isGlobalAddress(a.address));
        if (refused) return callback(new PrivateAddressError(hostname, refused.address), '', 0);
        if (candidates.length === 0) {
          const error = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
          return callback(error, '', 0);
        }
        if (options.all) return (callback as any)(null, candidates);
        callback(null, candidates[0].address, candidates[0].family);
      },
      (error) => callback(error, '', 0),
    );
  };
}
