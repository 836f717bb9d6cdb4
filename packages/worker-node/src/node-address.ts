/**
 * Which interface a process listens on and which address it tells others (Ray's
 * `--node-ip-address`). Two rules keep a cluster of several machines reachable: nothing ever
 * advertises a wildcard (0.0.0.0, ::), which means "every interface" to a listener but "this
 * machine" to whoever dials it, and nothing advertises a loopback address to a head on another
 * machine, whose other nodes would dial their own loopback.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import os from 'node:os';

/** What the choice is made from. */
export interface AddressInput {
  /** `--host`: the interface to listen on; absent: chosen here. */
  host?: string | undefined;
  /** `--node-ip-address`: the address to advertise; absent: chosen here. */
  nodeIpAddress?: string | undefined;
  /** Host name or address of the head this node joins (as in its URL, without brackets). */
  headHost: string;
  /** This machine's address on the route to the head (the local address of a connection to it); absent: unknown. */
  routeAddress?: string | undefined;
  /** The addresses of this machine's interfaces. */
  localAddresses: string[];
}

/** The outcome: where to listen, what to advertise. */
export interface AddressChoice {
  listenHost: string;
  advertiseHost: string;
}

/** A choice that would leave this node unreachable, with what to pass instead. */
export class NodeAddressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NodeAddressError';
  }
}

/** 0.0.0.0 or :: (any spelling). */
export function isWildcard(host: string): boolean {
  const bare = unbracket(host);
  return bare === '0.0.0.0' || (net.isIPv6(bare) && /^[0:]+$/.test(bare));
}

/** 127.0.0.0/8, ::1 or localhost. */
export function isLoopback(host: string): boolean {
  const bare = unbracket(host).toLowerCase();
  return bare === 'localhost' || bare === '::1' || (net.isIPv4(bare) && bare.startsWith('127.'));
}

/** `[::1]` → `::1`; anything else unchanged. */
export function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/**
 * Where a joining node listens and what it advertises:
 * - neither flag: the address of its route to the head, both (loopback for a head on loopback);
 * - `--host H` alone: listens on H and advertises it, or the route address when H is a wildcard;
 * - `--node-ip-address A`: advertises A, and listens on `--host` if given, else on A when it is an
 *   address of this machine, else on every interface (A is then a NAT or forwarded address).
 * Throws {@link NodeAddressError} when the advertised address would be a wildcard, or loopback
 * while the head is on another machine.
 */
export function chooseNodeAddresses(input: AddressInput): AddressChoice {
  const { host, nodeIpAddress, headHost, routeAddress } = input;
  const local = (address: string): boolean => input.localAddresses.includes(unbracket(address));
  const listenHost = host
    ?? (nodeIpAddress !== undefined ? (local(nodeIpAddress) ? nodeIpAddress : '0.0.0.0') : (routeAddress ?? '127.0.0.1'));
  const advertiseHost = nodeIpAddress ?? (isWildcard(listenHost) ? routeAddress : listenHost);
  if (advertiseHost === undefined || isWildcard(advertiseHost)) {
    throw new NodeAddressError(`cannot advertise ${advertiseHost ?? 'an address'}: ${advertiseHost === undefined ? `this machine has no route to the head at ${headHost}` : 'it is a wildcard, which others cannot dial'}; `
      + 'pass --node-ip-address <the address other machines reach this one at>');
  }
  if (isLoopback(advertiseHost) && !isLoopback(headHost)) {
    throw new NodeAddressError(`this node would advertise ${advertiseHost}, a loopback address, to the head at ${headHost} on another machine, `
      + 'whose nodes would dial their own loopback: pass --node-ip-address <the address other machines reach this one at> '
      + '(or --host <an interface they reach>)');
  }
  return { listenHost, advertiseHost };
}

/**
 * What the head advertises: `--node-ip-address` if given, else the interface it listens on, or,
 * for a wildcard, this machine's first external IPv4 address (loopback when it has none: then only
 * this machine can join).
 */
export function chooseHeadAddress(host: string, nodeIpAddress: string | undefined, localAddresses = externalAddresses()): string {
  if (nodeIpAddress !== undefined) {
    if (isWildcard(nodeIpAddress)) throw new NodeAddressError(`--node-ip-address ${nodeIpAddress} is a wildcard, which others cannot dial: give this machine's address`);
    return nodeIpAddress;
  }
  if (!isWildcard(host)) return host;
  return localAddresses.find((address) => net.isIPv4(address)) ?? '127.0.0.1';
}

/** The addresses of this machine's interfaces, loopback ones included. */
export function interfaceAddresses(): string[] {
  return Object.values(os.networkInterfaces()).flat().filter((nic) => nic !== undefined).map((nic) => nic.address);
}

/** The addresses of this machine's external (not loopback) interfaces. */
export function externalAddresses(): string[] {
  return Object.values(os.networkInterfaces()).flat().filter((nic) => nic !== undefined && !nic.internal).map((nic) => (nic as os.NetworkInterfaceInfo).address);
}

/**
 * This machine's address on the route to `host`: the local address the kernel picks for a UDP
 * socket connected there (no packet is sent), which is the local address a TCP connection to it
 * gets. Undefined when there is no route.
 */
export async function routeAddressTo(host: string, port: number): Promise<string | undefined> {
  const bare = unbracket(host);
  const socket = dgram.createSocket(net.isIPv6(bare) ? 'udp6' : 'udp4');
  try {
    return await new Promise<string | undefined>((resolve) => {
      socket.once('error', () => resolve(undefined));
      socket.connect(port, bare, () => resolve(socket.address().address));
    });
  } finally {
    socket.close();
  }
}

/** `ws://host:port` with `host` bracketed when it is IPv6. */
export function wsUrlOf(scheme: 'ws' | 'wss', host: string, port: number): string {
  const bare = unbracket(host);
  return `${scheme}://${net.isIPv6(bare) ? `[${bare}]` : bare}:${port}`;
}
