/**
 * Dashboard sign-in on the head: the token as a bearer, session cookies that expire, a bounded
 * number of sessions, cookie parsing, and the cookie's attributes.
 */
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { HttpAuth, MAX_SESSIONS, SESSION_COOKIE, SESSION_TTL_MS, cookieValue } from '../src/sessions.ts';

const request = (headers: Record<string, string>): IncomingMessage => ({ headers } as unknown as IncomingMessage);
const withCookie = (id: string): IncomingMessage => request({ cookie: `other=1; ${SESSION_COOKIE}=${id}` });

describe('HttpAuth', () => {
  it('takes the token as a bearer and refuses another token or none', () => {
    const auth = new HttpAuth('s3cret');
    expect(auth.allows(request({ authorization: 'Bearer s3cret' }))).toBe(true);
    expect(auth.allows(request({ authorization: 'Bearer wrong' }))).toBe(false);
    expect(auth.allows(request({}))).toBe(false);
  });

  it('opens a session whose cookie is HttpOnly, SameSite=Strict, Path=/ and expiring, with a random id', () => {
    const auth = new HttpAuth('s3cret');
    const { id, cookie } = auth.open();
    expect(cookie).toBe(`${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_TTL_MS / 1000}`);
    expect(id).toMatch(/^[\w-]{43}$/);
    expect(auth.open().id).not.toBe(id);
    expect(auth.allows(withCookie(id))).toBe(true);
    expect(auth.allows(withCookie('made-up'))).toBe(false);
  });

  it('marks the cookie Secure when the head serves https', () => {
    expect(new HttpAuth('s3cret', true).open().cookie).toMatch(/; Secure$/);
  });

  it('lets a session expire after SESSION_TTL_MS, and ends one on sign-out', () => {
    let now = 1_000;
    const auth = new HttpAuth('s3cret', false, () => now);
    const a = auth.open().id;
    const b = auth.open().id;
    now += SESSION_TTL_MS - 1;
    expect(auth.hasSession(a)).toBe(true);
    expect(auth.close(withCookie(a))).toMatch(/Max-Age=0/);
    expect(auth.hasSession(a)).toBe(false);
    now += 1;
    expect(auth.hasSession(b)).toBe(false);
  });

  it('does not take a wrong bearer even with a good cookie', () => {
    const auth = new HttpAuth('s3cret');
    const { id } = auth.open();
    expect(auth.allows(request({ authorization: 'Bearer wrong', cookie: `${SESSION_COOKIE}=${id}` }))).toBe(false);
  });

  it('keeps at most MAX_SESSIONS sessions, forgetting the oldest', () => {
    const auth = new HttpAuth('s3cret');
    const first = auth.open().id;
    const second = auth.open().id;
    for (let i = 0; i < MAX_SESSIONS - 1; i++) auth.open();
    expect(auth.hasSession(first)).toBe(false);
    expect(auth.hasSession(second)).toBe(true);
  });
});

describe('cookieValue', () => {
  it.each([
    ['a=1; weft_session=xyz; b=2', 'xyz'],
    ['weft_session=xyz', 'xyz'],
    ['  weft_session = xyz ', 'xyz'],
    ['weft_sessionx=1', undefined],
    ['', undefined],
  ])('reads %j as %j', (header, value) => {
    expect(cookieValue(header, 'weft_session')).toBe(value);
  });
});
