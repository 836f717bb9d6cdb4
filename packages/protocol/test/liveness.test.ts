import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEATH_TIMEOUT_MS, KEEPALIVE_INTERVAL_MS, Keepalive, keepaliveOption, type KeepaliveOptions } from '../src/liveness.ts';

const OPTIONS = { intervalMs: 250, timeoutMs: 1_000 };

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

/** A keepalive over a fake peer whose socket has read `bytes.read` bytes. */
function watch(options: KeepaliveOptions = OPTIONS) {
  const bytes = { read: 0 };
  const peer = { ping: vi.fn(), silent: vi.fn(), bytesRead: () => bytes.read };
  return { keepalive: new Keepalive(options, peer), peer, bytes };
}

describe('Keepalive', () => {
  it('pings every interval and reports a silent peer once, timeoutMs after the last frame', () => {
    const { keepalive, peer } = watch();
    vi.advanceTimersByTime(600);
    keepalive.heard();
    vi.advanceTimersByTime(999);
    expect(peer.ping).toHaveBeenCalledTimes(6);
    expect(peer.silent).not.toHaveBeenCalled();
    vi.advanceTimersByTime(2); // the deadline, then the verdict (fake immediates run a millisecond later)
    expect(peer.silent).toHaveBeenCalledTimes(1);
    // Stopped: no more pings, no second report.
    vi.advanceTimersByTime(10 * OPTIONS.timeoutMs);
    expect(peer.ping).toHaveBeenCalledTimes(6);
    expect(peer.silent).toHaveBeenCalledTimes(1);
  });

  it('never reports a peer heard from more often than the timeout', () => {
    const { keepalive, peer } = watch();
    for (let i = 0; i < 100; i++) {
      vi.advanceTimersByTime(OPTIONS.timeoutMs - 1);
      keepalive.heard();
    }
    expect(peer.silent).not.toHaveBeenCalled();
  });

  it('judges after the next poll for I/O, so that a stall of this process does not pass for the peer\'s silence', () => {
    // Pings at 300, 600, 900: the next timer after 999 is the deadline alone.
    const { keepalive, peer } = watch({ intervalMs: 300, timeoutMs: 1_000 });
    vi.advanceTimersByTime(999);
    vi.advanceTimersToNextTimer(); // the deadline: the verdict waits for an immediate
    expect(peer.silent).not.toHaveBeenCalled();
    keepalive.heard(); // a pong that sat unread in the socket while this process was stalled
    vi.advanceTimersToNextTimer();
    vi.advanceTimersByTime(999);
    expect(peer.silent).not.toHaveBeenCalled();
  });

  it('counts bytes of a frame still arriving as life, and reports the peer within timeoutMs + intervalMs once they stop', () => {
    const { peer, bytes } = watch();
    for (let i = 0; i < 40; i++) {
      vi.advanceTimersByTime(OPTIONS.intervalMs);
      bytes.read += 1024;
    }
    vi.advanceTimersByTime(OPTIONS.timeoutMs);
    expect(peer.silent).not.toHaveBeenCalled();
    vi.advanceTimersByTime(OPTIONS.intervalMs + 1); // +1: fake immediates run a millisecond later
    expect(peer.silent).toHaveBeenCalledTimes(1);
  });

  it('does not count bytes that came with whole frames as a frame still arriving', () => {
    const { keepalive, peer, bytes } = watch();
    for (let i = 0; i < 4; i++) {
      vi.advanceTimersByTime(OPTIONS.intervalMs);
      bytes.read += 8;
      keepalive.heard();
    }
    // The last frame was heard at 1000, and its bytes are sampled at 1250: the deadline stays at 2000.
    vi.advanceTimersByTime(OPTIONS.timeoutMs + 1);
    expect(peer.silent).toHaveBeenCalledTimes(1);
  });

  it('counts bytes read during the poll before the verdict as life', () => {
    const { peer, bytes } = watch({ intervalMs: 300, timeoutMs: 1_000 });
    vi.advanceTimersByTime(999);
    vi.advanceTimersToNextTimer(); // the deadline
    bytes.read += 64 * 1024; // part of a large frame, read after this process stalled
    vi.advanceTimersToNextTimer();
    vi.advanceTimersByTime(999);
    expect(peer.silent).not.toHaveBeenCalled();
  });

  it('reports nothing once stopped', () => {
    const { keepalive, peer } = watch();
    keepalive.stop();
    vi.advanceTimersByTime(10 * OPTIONS.timeoutMs);
    expect(peer.ping).not.toHaveBeenCalled();
    expect(peer.silent).not.toHaveBeenCalled();
  });
});

describe('keepaliveOption', () => {
  it('defaults to a ping every KEEPALIVE_INTERVAL_MS and the death timeout, and keeps false', () => {
    expect(keepaliveOption(undefined)).toEqual({ intervalMs: KEEPALIVE_INTERVAL_MS, timeoutMs: DEATH_TIMEOUT_MS });
    expect(keepaliveOption(false)).toBe(false);
    expect(keepaliveOption({ intervalMs: 50, timeoutMs: 300 })).toEqual({ intervalMs: 50, timeoutMs: 300 });
  });

  it.each([
    [{ intervalMs: 0, timeoutMs: 300 }, RangeError, 'keepalive.intervalMs'],
    [{ intervalMs: Number.NaN, timeoutMs: 300 }, RangeError, 'keepalive.intervalMs'],
    [{ intervalMs: 50, timeoutMs: 50 }, RangeError, 'keepalive.timeoutMs'],
    [{ intervalMs: 50, timeoutMs: Number.POSITIVE_INFINITY }, RangeError, 'keepalive.timeoutMs'],
    [{ intervalMs: 50 }, RangeError, 'keepalive.timeoutMs'],
    [true, TypeError, 'keepalive must be false'],
  ] as Array<[unknown, typeof Error, string]>)('refuses %o, naming the option', (option, type, name) => {
    expect(() => keepaliveOption(option as KeepaliveOptions)).toThrow(type);
    expect(() => keepaliveOption(option as KeepaliveOptions)).toThrow(name);
  });
});
