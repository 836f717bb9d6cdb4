/**
 * ReconnectingConnection over in-memory connection pairs, with fake timers and a fake dial
 * function: the backoff schedule (100 ms doubling to 5 s, back to 100 ms after a success), what
 * is kept and sent again in plain and resumable modes, the hooks' order, and close().
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { inProcessPair, type Connection } from '../src/connection.ts';
import { ReconnectingConnection, type ReconnectHooks, type Reopened } from '../src/reconnecting.ts';

/** What the peer sends: an acknowledgement (resumable mode) or anything else. */
type In = { type: 'received'; count: number } | { type: 'hi'; text: string };
type Out = string;

/**
 * The far ends of the connections dialled, and a dial function that fails while `failing` is
 * set, else opens a new in-memory pair (resuming from `resumeFrom`).
 */
function dialer() {
  const peers: Array<{ conn: Connection<Out, In>; received: Out[] }> = [];
  const dial = {
    calls: 0,
    failing: false,
    resumeFrom: undefined as number | undefined,
    peers,
    connect: async (): Promise<Reopened<In, Out>> => {
      dial.calls += 1;
      if (dial.failing) throw new Error('ECONNREFUSED');
      const [near, far] = inProcessPair<In, Out>();
      const peer = { conn: far, received: [] as Out[] };
      far.onMessage((message) => peer.received.push(message));
      peers.push(peer);
      return { conn: near, resumeFrom: dial.resumeFrom };
    },
  };
  return dial;
}

function hooks(events: string[], onReconnected: (resumed: boolean) => void = () => {}): ReconnectHooks {
  return {
    disconnected: (reason) => void events.push(`disconnected: ${reason}`),
    reconnected: (resumed) => {
      events.push(`reconnected (${resumed ? 'resumed' : 'fresh'})`);
      onReconnected(resumed);
    },
    resumed: () => void events.push('resumed'),
  };
}

/** A ReconnectingConnection over a first connection the dialer opened. */
async function open(dial: ReturnType<typeof dialer>, events: string[], resumable = false, onReconnected?: (resumed: boolean) => void) {
  const { conn: first } = await dial.connect();
  dial.calls = 0;
  const conn = new ReconnectingConnection<In, Out>(first, dial.connect, hooks(events, onReconnected),
    resumable ? { acked: (message) => (message.type === 'received' ? message.count : undefined) } : undefined);
  return conn;
}

/** The peer at the far end of the current connection drops it. */
const drop = (dial: ReturnType<typeof dialer>, reason = 'peer gone'): void => dial.peers.at(-1)?.conn.close(reason);

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('reconnecting', () => {
  it('tries again after 100 ms, doubling the wait up to 5 s while the peer stays away', async () => {
    const dial = dialer();
    const events: string[] = [];
    await open(dial, events);
    dial.failing = true;
    drop(dial);
    expect(events).toEqual(['disconnected: peer gone']);
    const attemptsAt: number[] = [];
    for (let ms = 0; ms <= 25_000; ms += 50) {
      const before = dial.calls;
      await vi.advanceTimersByTimeAsync(ms === 0 ? 0 : 50);
      if (dial.calls > before) attemptsAt.push(ms);
    }
    expect(attemptsAt).toEqual([100, 300, 700, 1_500, 3_100, 6_300, 11_300, 16_300, 21_300]);
  });

  it('keeps trying every 5 s however long the peer stays away: it never gives up', async () => {
    const dial = dialer();
    await open(dial, []);
    dial.failing = true;
    drop(dial);
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    const calls = dial.calls;
    expect(calls).toBeGreaterThan(100);
    dial.failing = false;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(dial.calls).toBe(calls + 1);
    expect(dial.peers).toHaveLength(2);
  });

  it('waits 100 ms again after a reconnect that succeeded', async () => {
    const dial = dialer();
    const events: string[] = [];
    await open(dial, events);
    dial.failing = true;
    drop(dial);
    await vi.advanceTimersByTimeAsync(1_500); // attempts at 100, 300, 700, 1500: the next wait would be 1.6 s
    dial.failing = false;
    await vi.advanceTimersByTimeAsync(3_100 - 1_500);
    expect(dial.peers).toHaveLength(2);
    drop(dial);
    const calls = dial.calls;
    await vi.advanceTimersByTimeAsync(99);
    expect(dial.calls).toBe(calls);
    await vi.advanceTimersByTimeAsync(1);
    expect(dial.calls).toBe(calls + 1);
    expect(dial.peers).toHaveLength(3);
  });

  it('passes messages from each new connection to the handler set at the start', async () => {
    const dial = dialer();
    const conn = await open(dial, []);
    const got: In[] = [];
    conn.onMessage((message) => got.push(message));
    dial.peers[0]?.conn.send({ type: 'hi', text: 'one' });
    await vi.advanceTimersByTimeAsync(0);
    drop(dial);
    await vi.advanceTimersByTimeAsync(100);
    dial.peers[1]?.conn.send({ type: 'hi', text: 'two' });
    await vi.advanceTimersByTimeAsync(0);
    expect(got).toEqual([{ type: 'hi', text: 'one' }, { type: 'hi', text: 'two' }]);
  });
});

describe('plain mode (a node\'s link to its head)', () => {
  it('sends what was sent while away on the new connection, after what the reconnected hook sends; what was in flight is lost', async () => {
    const dial = dialer();
    const events: string[] = [];
    let conn: ReconnectingConnection<In, Out> | undefined;
    conn = await open(dial, events, false, () => conn?.send('register'));
    conn.send('in flight');
    drop(dial); // in the same turn: the batch never leaves
    conn.send('heartbeat 1');
    conn.send('report');
    await vi.advanceTimersByTimeAsync(100);
    expect(dial.peers[0]?.received).toEqual([]);
    expect(dial.peers[1]?.received).toEqual(['register', 'heartbeat 1', 'report']);
    expect(events).toEqual(['disconnected: peer gone', 'reconnected (fresh)', 'resumed']);
    // Once open, messages are not kept: a second drop sends nothing again.
    drop(dial);
    await vi.advanceTimersByTimeAsync(100);
    expect(dial.peers[2]?.received).toEqual(['register']);
  });

  it('keeps at most 100,000 messages while away, dropping the oldest', async () => {
    const dial = dialer();
    const conn = await open(dial, []);
    drop(dial);
    for (let i = 0; i < 100_002; i++) conn.send(`m-${i}`);
    await vi.advanceTimersByTimeAsync(100);
    const received = dial.peers[1]?.received ?? [];
    expect(received).toHaveLength(100_000);
    expect(received[0]).toBe('m-2');
    expect(received.at(-1)).toBe('m-100001');
  });
});

describe('resumable mode (a driver\'s link to its node)', () => {
  it('sends again, in order, the messages the peer had not handled when the connection broke', async () => {
    const dial = dialer();
    const events: string[] = [];
    const conn = await open(dial, events, true);
    for (const m of ['m-0', 'm-1', 'm-2', 'm-3', 'm-4']) conn.send(m);
    await vi.advanceTimersByTimeAsync(0);
    expect(dial.peers[0]?.received).toEqual(['m-0', 'm-1', 'm-2', 'm-3', 'm-4']);
    dial.peers[0]?.conn.send({ type: 'received', count: 2 }); // the peer acknowledges m-0 and m-1
    await vi.advanceTimersByTimeAsync(0);
    drop(dial);
    conn.send('m-5');
    dial.resumeFrom = 4; // it had handled m-2 and m-3 too, not yet acknowledged
    await vi.advanceTimersByTimeAsync(100);
    expect(dial.peers[1]?.received).toEqual(['m-4', 'm-5']);
    expect(events).toEqual(['disconnected: peer gone', 'reconnected (resumed)', 'resumed']);
  });

  it('counts on from where the peer resumed: a later break sends again only what it has not handled since', async () => {
    const dial = dialer();
    const conn = await open(dial, [], true);
    for (const m of ['m-0', 'm-1', 'm-2']) conn.send(m);
    await vi.advanceTimersByTimeAsync(0);
    drop(dial);
    dial.resumeFrom = 1;
    await vi.advanceTimersByTimeAsync(100);
    expect(dial.peers[1]?.received).toEqual(['m-1', 'm-2']);
    conn.send('m-3');
    await vi.advanceTimersByTimeAsync(0);
    drop(dial);
    dial.resumeFrom = 3;
    await vi.advanceTimersByTimeAsync(100);
    expect(dial.peers[2]?.received).toEqual(['m-3']);
  });

  it('resumes, sending nothing again, when the peer had handled exactly what it acknowledged', async () => {
    const dial = dialer();
    const events: string[] = [];
    const conn = await open(dial, events, true);
    for (const m of ['m-0', 'm-1']) conn.send(m);
    dial.peers[0]?.conn.send({ type: 'received', count: 2 });
    await vi.advanceTimersByTimeAsync(0);
    drop(dial);
    dial.resumeFrom = 2;
    await vi.advanceTimersByTimeAsync(100);
    expect(dial.peers[1]?.received).toEqual([]);
    expect(events).toEqual(['disconnected: peer gone', 'reconnected (resumed)', 'resumed']);
  });

  it('sends every message not acknowledged to a peer that kept no count (it restarted), and says it did not resume', async () => {
    const dial = dialer();
    const events: string[] = [];
    const conn = await open(dial, events, true);
    for (const m of ['m-0', 'm-1', 'm-2']) conn.send(m);
    dial.peers[0]?.conn.send({ type: 'received', count: 1 });
    await vi.advanceTimersByTimeAsync(0);
    drop(dial);
    dial.resumeFrom = undefined;
    await vi.advanceTimersByTimeAsync(100);
    expect(dial.peers[1]?.received).toEqual(['m-1', 'm-2']);
    expect(events).toEqual(['disconnected: peer gone', 'reconnected (fresh)', 'resumed']);
    // The new peer counts from 0: its acknowledgement of 1 releases m-1 alone.
    dial.peers[1]?.conn.send({ type: 'received', count: 1 });
    await vi.advanceTimersByTimeAsync(0);
    drop(dial);
    dial.resumeFrom = 1;
    await vi.advanceTimersByTimeAsync(100);
    expect(dial.peers[2]?.received).toEqual(['m-2']);
  });
});

describe('closing', () => {
  it('stops reconnecting, tells its close handler once, and closes a connection that opens after it', async () => {
    const dial = dialer();
    const conn = await open(dial, []);
    const closes: string[] = [];
    conn.onClose((reason) => closes.push(reason));
    dial.failing = true;
    drop(dial);
    await vi.advanceTimersByTimeAsync(100);
    const calls = dial.calls;
    conn.close('shutdown');
    conn.close('again');
    expect(vi.getTimerCount()).toBe(0); // the next attempt's timer is cleared
    await vi.advanceTimersByTimeAsync(60_000);
    expect(dial.calls).toBe(calls);
    expect(closes).toEqual(['shutdown']);
  });

  it('closes a connection whose dial was under way when it closed', async () => {
    const [near, far] = inProcessPair<In, Out>();
    const [lateNear, lateFar] = inProcessPair<In, Out>();
    const lateClosed: string[] = [];
    lateFar.onClose((reason) => lateClosed.push(reason));
    let answer!: (opened: Reopened<In, Out>) => void;
    const events: string[] = [];
    const conn = new ReconnectingConnection<In, Out>(near, () => new Promise((resolve) => { answer = resolve; }), hooks(events));
    far.close('peer gone');
    await vi.advanceTimersByTimeAsync(100);
    conn.close('shutdown');
    answer({ conn: lateNear });
    await vi.advanceTimersByTimeAsync(0);
    expect(lateClosed).toEqual(['closed meanwhile']);
    expect(events).toEqual(['disconnected: peer gone']);
  });

  it('closes the current connection when closed while open', async () => {
    const dial = dialer();
    const conn = await open(dial, []);
    const peerClosed: string[] = [];
    dial.peers[0]?.conn.onClose((reason) => peerClosed.push(reason));
    conn.close('shutdown');
    expect(peerClosed).toEqual(['shutdown']);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(dial.calls).toBe(0);
  });
});
