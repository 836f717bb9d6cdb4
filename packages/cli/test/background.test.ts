import { describe, expect, it } from 'vitest';
import { withoutToken } from '../src/background.ts';

describe('the arguments of a background child', () => {
  it('leave out --token and its value in both spellings, and keep the rest in order', () => {
    expect(withoutToken(['start', '--address', 'ws://h:7350', '--token', 's3cret', '--num-cpus', '2'])).toEqual(['start', '--address', 'ws://h:7350', '--num-cpus', '2']);
    expect(withoutToken(['start', '--head', '--token=s3cret', '--port', '0'])).toEqual(['start', '--head', '--port', '0']);
    expect(withoutToken(['start', '--token'])).toEqual(['start']);
    expect(withoutToken(['start', '--tokens', 'x'])).toEqual(['start', '--tokens', 'x']);
  });
});
