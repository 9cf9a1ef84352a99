// The one public page: a password, and why it was refused.
import { useState } from 'preact/hooks';
import { api, ApiError, errorMessage, forgetSession } from '../api';

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
      const next = new URLSearchParams(location.search).get('next');
      // only a path of this site, never an address elsewhere
      location.assign(next && /^\/(?!\/)/.test(next) && !next.startsWith('/login') ? next : '/live');
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
