/** Asks for the cluster token once and trades it for a session cookie. */
import { useState } from 'preact/hooks';
import { signIn } from '../api.ts';

export function SignIn({ initialError, onSignedIn }: { initialError: string | undefined; onSignedIn: () => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState(initialError);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    const refusal = await signIn(token.trim()).catch((e: unknown) => `could not reach the head: ${String(e)}`);
    setBusy(false);
    if (refusal === undefined) onSignedIn();
    else setError(refusal);
  };
  return (
    <form id="sign-in" class="sign-in" onSubmit={(event) => void submit(event)}>
      <h1>weft</h1>
      <p>Sign in with the cluster token (<code>weft start --head</code> printed it; it is also the <code>token</code> file of the session folder).</p>
      <input id="token" type="password" autocomplete="current-password" placeholder="cluster token" value={token}
        onInput={(event) => setToken((event.target as HTMLInputElement).value)} />
      <button type="submit" disabled={busy || token.trim() === ''}>Sign in</button>
      {error !== undefined && <p class="error" role="alert">{error}</p>}
    </form>
  );
}
