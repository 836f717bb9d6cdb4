/**
 * The page's side of sign-in and of the head's HTTP API. The session is a cookie the page never
 * sees (HttpOnly): it asks the head whether it is signed in, and signs in by handing the token
 * over once, from the form or from the link `weft start --head` printed.
 */
import type { LogLine } from '@weft/protocol';

/** The token in the address (`/#token=…` or `/?token=…`), removed from it at once; undefined: none. */
export function takeTokenFromAddress(): string | undefined {
  const url = new URL(location.href);
  const fromHash = new URLSearchParams(url.hash.replace(/^#/, '')).get('token');
  const fromQuery = url.searchParams.get('token');
  const token = fromHash ?? fromQuery;
  if (token === null) return undefined;
  url.searchParams.delete('token');
  if (fromHash !== null) url.hash = '';
  // The token must not stay in the address bar, the history or a bookmark.
  history.replaceState(null, '', url.pathname + url.search + url.hash);
  return token;
}

/** Whether this page has a session. */
export async function isSignedIn(): Promise<boolean> {
  const response = await fetch('/api/session', { credentials: 'same-origin' });
  return response.ok;
}

/** Exchanges the token for a session cookie; resolves to the head's refusal message, or undefined when signed in. */
export async function signIn(token: string): Promise<string | undefined> {
  const response = await fetch('/api/session', {
    method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }),
  });
  if (response.ok) return undefined;
  const body = await response.json().catch(() => ({})) as { error?: string };
  return body.error ?? `sign-in failed: HTTP ${response.status}`;
}

export async function signOut(): Promise<void> {
  await fetch('/api/session', { method: 'DELETE', credentials: 'same-origin' });
}

/** A task's log lines (stderr ones marked), in the order written; undefined when the head cannot say (HTTP error). */
export async function taskLogs(taskId: string): Promise<string[] | undefined> {
  const response = await fetch(`/api/tasks/${encodeURIComponent(taskId)}/logs`, { credentials: 'same-origin' });
  if (!response.ok) return undefined;
  const lines = await response.json() as Array<Pick<LogLine, 'stream' | 'text' | 'dropped'>>;
  return lines.flatMap((line) => [
    ...(line.dropped ? [`… ${line.dropped} lines dropped`] : []),
    line.stream === 'stderr' ? `[stderr] ${line.text}` : line.text,
  ]);
}
