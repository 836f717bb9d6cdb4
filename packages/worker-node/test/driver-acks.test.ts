import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ACK_DELAY_MS, DriverAcks } from '../src/driver-acks.ts';

describe('DriverAcks', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('lets an owed count ride with the next message to that driver, and sends none later', () => {
    const sent: string[] = [];
    const acks = new DriverAcks((id) => sent.push(id));
    acks.owe('d1');
    acks.owe('d1');
    expect(acks.take('d1')).toBe(true);
    expect(acks.take('d1')).toBe(false);
    vi.advanceTimersByTime(ACK_DELAY_MS);
    expect(sent).toEqual([]);
  });

  it('sends each owed count once, ACK_DELAY_MS after the first, when no message went to its driver', () => {
    const sent: string[] = [];
    const acks = new DriverAcks((id) => sent.push(id));
    acks.owe('d1');
    vi.advanceTimersByTime(ACK_DELAY_MS / 2);
    acks.owe('d2');
    acks.owe('d1');
    vi.advanceTimersByTime(ACK_DELAY_MS / 2 - 1);
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(sent.sort()).toEqual(['d1', 'd2']);
    acks.owe('d3');
    vi.advanceTimersByTime(ACK_DELAY_MS);
    expect(sent.sort()).toEqual(['d1', 'd2', 'd3']);
  });

  it('owes nothing to a dropped driver, and nothing at all once stopped', () => {
    const sent: string[] = [];
    const acks = new DriverAcks((id) => sent.push(id));
    acks.owe('d1');
    acks.owe('d2');
    acks.drop('d1');
    vi.advanceTimersByTime(ACK_DELAY_MS);
    expect(sent).toEqual(['d2']);
    acks.owe('d3');
    acks.stop();
    vi.advanceTimersByTime(ACK_DELAY_MS);
    expect(sent).toEqual(['d2']);
  });
});
