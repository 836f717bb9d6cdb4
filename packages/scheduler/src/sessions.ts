/**
 * Who may read the head's state over HTTP: a request carries the cluster token as
 * `Authorization: Bearer …` (the CLI, scripts), or the cookie of a dashboard session that was
 * opened with the token (`POST /api/session`). A session is a random id the head keeps, with an
 * expiry; the cookie is HttpOnly and SameSite=Strict, so page scripts cannot read it and other
 * sites cannot send it. Sessions live in the head's memory: a restarted head asks again.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** How long a dashboard session lasts. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
/** Sessions kept at most; opening one more forgets the oldest. */
export const MAX_SESSIONS = 1_000;
/** The cookie's name. */
export const SESSION_COOKIE = 'weft_session';

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** The value of the cookie `name` in a Cookie header; undefined when absent. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Checks the token and the session cookie of requests; opens and closes sessions. */
export class HttpAuth {
  readonly #expected: Buffer;
  /** Session id → when it expires (ms since epoch), oldest first. */
  readonly #sessions = new Map<string, number>();

  /**
   * @param secure the head serves https: cookies get `Secure`.
   * @param now the clock (tests pass a fake one).
   */
  constructor(token: string, private readonly secure = false, private readonly now: () => number = Date.now) {
    this.#expected = digest(token);
  }

  /** Whether `given` is the cluster token (in constant time: both sides are hashed first). */
  isToken(given: string): boolean {
    return timingSafeEqual(digest(given), this.#expected);
  }

  /** Whether the request carries the token as a bearer or a live session's cookie. */
  allows(req: IncomingMessage): boolean {
    const bearer = req.headers.authorization;
    if (bearer !== undefined) return this.isToken(bearer.replace(/^Bearer /, ''));
    const id = cookieValue(req.headers.cookie, SESSION_COOKIE);
    return id !== undefined && this.hasSession(id);
  }

  /** Whether `id` is a session that has not expired. */
  hasSession(id: string): boolean {
    const expires = this.#sessions.get(id);
    if (expires === undefined) return false;
    if (expires > this.now()) return true;
    this.#sessions.delete(id);
    return false;
  }

  /** A new session: its id and the Set-Cookie header that hands it to the browser. */
  open(): { id: string; cookie: string } {
    const id = randomBytes(32).toString('base64url');
    this.#sessions.set(id, this.now() + SESSION_TTL_MS);
    for (const oldest of this.#sessions.keys()) {
      if (this.#sessions.size <= MAX_SESSIONS) break;
      this.#sessions.delete(oldest);
    }
    const maxAge = Math.floor(SESSION_TTL_MS / 1000);
    return { id, cookie: `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAge}${this.secure ? '; Secure' : ''}` };
  }

  /** Ends the request's session, if any; returns the Set-Cookie header that clears the cookie. */
  close(req: IncomingMessage): string {
    const id = cookieValue(req.headers.cookie, SESSION_COOKIE);
    if (id !== undefined) this.#sessions.delete(id);
    return `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;
  }
}
