import { describe, expect, it } from 'vitest';
import { NodeAddressError, chooseHeadAddress, chooseNodeAddresses, isLoopback, isWildcard } from '../src/node-address.ts';

const LOCAL = ['127.0.0.1', '::1', '10.0.0.7', '192.168.1.4'];

describe('chooseNodeAddresses', () => {
  const cases: Array<{ what: string; host?: string; ip?: string; head: string; route?: string; listen: string; advertise: string }> = [
    { what: 'listens on and advertises its route to a remote head when given neither flag', head: '10.0.0.5', route: '10.0.0.7', listen: '10.0.0.7', advertise: '10.0.0.7' },
    { what: 'stays on loopback for a head on loopback', head: '127.0.0.1', route: '127.0.0.1', listen: '127.0.0.1', advertise: '127.0.0.1' },
    { what: 'advertises the route address when listening on 0.0.0.0', host: '0.0.0.0', head: '10.0.0.5', route: '10.0.0.7', listen: '0.0.0.0', advertise: '10.0.0.7' },
    { what: 'advertises the route address when listening on ::', host: '::', head: '10.0.0.5', route: '10.0.0.7', listen: '::', advertise: '10.0.0.7' },
    { what: 'advertises an explicit --host', host: '192.168.1.4', head: '10.0.0.5', route: '10.0.0.7', listen: '192.168.1.4', advertise: '192.168.1.4' },
    { what: 'listens on --node-ip-address when it is an address of this machine', ip: '192.168.1.4', head: '10.0.0.5', route: '10.0.0.7', listen: '192.168.1.4', advertise: '192.168.1.4' },
    { what: 'listens everywhere for a --node-ip-address that is not local (NAT)', ip: '203.0.113.9', head: '10.0.0.5', route: '10.0.0.7', listen: '0.0.0.0', advertise: '203.0.113.9' },
    { what: 'keeps --host and --node-ip-address apart when both are given', host: '0.0.0.0', ip: '203.0.113.9', head: '10.0.0.5', listen: '0.0.0.0', advertise: '203.0.113.9' },
  ];
  for (const c of cases) {
    it(c.what, () => {
      expect(chooseNodeAddresses({ host: c.host, nodeIpAddress: c.ip, headHost: c.head, routeAddress: c.route, localAddresses: LOCAL }))
        .toEqual({ listenHost: c.listen, advertiseHost: c.advertise });
    });
  }

  it('refuses to advertise loopback to a head on another machine, naming --node-ip-address', () => {
    const choose = () => chooseNodeAddresses({ host: '127.0.0.1', headHost: '10.0.0.5', routeAddress: '10.0.0.7', localAddresses: LOCAL });
    expect(choose).toThrow(NodeAddressError);
    expect(choose).toThrow(/loopback.*--node-ip-address/);
    expect(() => chooseNodeAddresses({ nodeIpAddress: '127.0.0.1', headHost: '10.0.0.5', localAddresses: LOCAL })).toThrow(/--node-ip-address/);
  });

  it('refuses to advertise a wildcard', () => {
    expect(() => chooseNodeAddresses({ nodeIpAddress: '0.0.0.0', headHost: '10.0.0.5', localAddresses: LOCAL })).toThrow(/wildcard.*--node-ip-address/);
    expect(() => chooseNodeAddresses({ host: '0.0.0.0', headHost: '10.0.0.5', localAddresses: LOCAL })).toThrow(/no route.*--node-ip-address/);
  });
});

describe('chooseHeadAddress', () => {
  it('advertises --node-ip-address, else the listening host, else the first external IPv4 for a wildcard', () => {
    expect(chooseHeadAddress('0.0.0.0', '10.1.1.1', ['10.0.0.7'])).toBe('10.1.1.1');
    expect(chooseHeadAddress('127.0.0.1', undefined, ['10.0.0.7'])).toBe('127.0.0.1');
    expect(chooseHeadAddress('0.0.0.0', undefined, ['fe80::1', '10.0.0.7'])).toBe('10.0.0.7');
    expect(chooseHeadAddress('0.0.0.0', undefined, [])).toBe('127.0.0.1');
    expect(() => chooseHeadAddress('0.0.0.0', '::')).toThrow(/wildcard/);
  });
});

describe('address kinds', () => {
  it('tells wildcards and loopback addresses in every spelling', () => {
    expect(['0.0.0.0', '::', '[::]', '0:0:0:0:0:0:0:0'].every(isWildcard)).toBe(true);
    expect(['10.0.0.1', '::1', 'localhost'].some(isWildcard)).toBe(false);
    expect(['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LOCALHOST'].every(isLoopback)).toBe(true);
    expect(['10.0.0.1', '0.0.0.0', 'example.com'].some(isLoopback)).toBe(false);
  });
});
