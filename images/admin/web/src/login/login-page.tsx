// The one public page: a password, and why it was refused.
import { useState } from 'preact/hooks';
import { api, ApiError, errorMessage, forgetSession } from '../api';

/**
 * Where `next` asks to go, when that is a page of this admin; else Live. The browser itself
 * resolves the address (it reads `\` as `/` and drops tabs and newlines, so `/\evil.example` is
 * another origin): only what it resolves to on this origin counts.
 */
function pageAfterLogin(next: string | null): string {
  if (!next) {
    return '/live';
  }
  let target: URL;
  try {
    target = new URL(next, location.origin);
  } catch {
    return '/live';
  }
  if (target.origin !== location.origin || target.pathname.startsWith('/login')) {
    return '/live';
  }
  return target.pathname + target.search + target.hash;
}

export function LoginPage() {
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    if (!password) {
      setError('Enter the admin password.');
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await api('/api/login', { method: 'POST', body: { password }, noLoginRedirect: true });
      forgetSession();
      location.assign(pageAfterLogin(new URLSearchParams(location.search).get('next')));
    } catch (caught) {
      if (caught instanceof ApiError && caught.status === 401) {
        setError('Wrong password.');
      } else if (caught instanceof ApiError && caught.status === 429) {
        setError(
          `Too many attempts. Try again${caught.retryAfterS ? ` in ${Math.ceil(caught.retryAfterS)} s` : ' later'}.`,
        );
      } else {
        setError(`Could not log in: ${errorMessage(caught)}`);
      }
      setPassword('');
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login">
      <form class="card login-card" onSubmit={(e) => void submit(e)} noValidate>
        <div class="login-brand">
          <span class="brand-mark" aria-hidden="true">
            ◆
          </span>
          <h1>Mupets admin</h1>
        </div>
        <p class="muted">The live stream, the archive and the containers of this stack.</p>
        <label class="field">
          <span>Password</span>
          <input
            type="password"
            name="password"
            autoComplete="current-password"
            autoFocus
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? 'login-error' : undefined}
          />
        </label>
        {error && (
          <p class="error-text" id="login-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary wide" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </main>
  );
}
