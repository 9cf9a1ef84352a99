// The ingest's API tokens: create (the token is shown once), list, revoke.
import { useState } from 'preact/hooks';
import { api, ApiError, errorMessage } from '../api';
import type { CreatedToken, TokenList, TokenRecord } from '../api-types';
import { usePoll } from '../use-poll';

const list = (value: string): string[] =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

export function TokensPage() {
  const tokens = usePoll((signal) => api<TokenList>('/api/tokens', { signal }), 0);
  const [form, setForm] = useState({ name: '', channels: 'logs,events', services: '', ratePerSecond: '1000' });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<string | undefined>();
  const [shown, setShown] = useState<{ token: string; name: string } | undefined>();

  const create = async (event: Event): Promise<void> => {
    event.preventDefault();
    setErrors({});
    setProblem(undefined);
    try {
      const created = await api<CreatedToken>('/api/tokens', {
        method: 'POST',
        body: {
          name: form.name,
          channels: list(form.channels),
          services: list(form.services),
          ratePerSecond: Number(form.ratePerSecond),
        },
      });
      setShown({ token: created.token, name: created.record.name });
      setForm({ ...form, name: '', services: '' });
      tokens.reload();
    } catch (error) {
      if (error instanceof ApiError && error.issues.length > 0) {
        const found: Record<string, string> = {};
        for (const issue of error.issues) {
          found[issue.field.split('.')[0]!] = issue.message;
        }
        setErrors(found);
      } else {
        setProblem(errorMessage(error));
      }
    }
  };

  const revoke = async (record: TokenRecord): Promise<void> => {
    if (!confirm(`Revoke "${record.name}" (${record.hint}…)? Services using it are refused at once.`)) {
      return;
    }
    try {
      await api(`/api/tokens/${record.id}`, { method: 'DELETE' });
      tokens.reload();
    } catch (error) {
      setProblem(errorMessage(error));
    }
  };

  const field = (name: keyof typeof form) => ({
    value: form[name],
    onInput: (e: Event) => setForm({ ...form, [name]: (e.target as HTMLInputElement).value }),
  });
  const fieldError = (name: string) =>
    errors[name] ? (
      <span class="field-error" role="alert" data-error-for={name}>
        {errors[name]}
      </span>
    ) : null;

  return (
    <section class="page tokens-page">
      <form class="card submit-form" onSubmit={(e) => void create(e)} noValidate>
        <h2>API tokens for the ingest</h2>
        <p class="muted small">
          A token lets a service send to the ingest (native endpoint and OTLP) on the channels and as the services
          listed, never as admin. It is shown once; only its hash is kept.
        </p>
        <label class="field">
          <span>Name</span>
          <input type="text" name="name" placeholder="py-shop production" {...field('name')} />
          {fieldError('name')}
        </label>
        <div class="row2">
          <label class="field">
            <span>Channels (comma-separated)</span>
            <input type="text" name="channels" {...field('channels')} />
            {fieldError('channels')}
          </label>
          <label class="field">
            <span>Services it may claim (comma-separated)</span>
            <input type="text" name="services" placeholder="py-shop" {...field('services')} />
            {fieldError('services')}
          </label>
        </div>
        <label class="field">
          <span>Records per second</span>
          <input type="number" name="ratePerSecond" min={1} {...field('ratePerSecond')} />
          {fieldError('ratePerSecond')}
        </label>
        {problem && (
          <p class="banner error" role="alert">
            {problem}
          </p>
        )}
        {shown && (
          <p class="banner ok" role="status">
            Token for {shown.name}, shown only now:{' '}
            <code class="mono" data-token>
              {shown.token}
            </code>
          </p>
        )}
        <div class="form-actions">
          <button type="submit" class="primary">
            Create token
          </button>
        </div>
      </form>
      <div class="card">
        {tokens.error && <p class="error-text">{errorMessage(tokens.error)}</p>}
        {tokens.data?.tokens.length === 0 && <p class="muted small">No tokens yet.</p>}
        {tokens.data && tokens.data.tokens.length > 0 && (
          <div class="table-wrap">
            <table class="table compact">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Token</th>
                  <th>Channels</th>
                  <th>Services</th>
                  <th>Rate</th>
                  <th>Created</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {tokens.data.tokens.map((record) => (
                  <tr key={record.id}>
                    <td>{record.name}</td>
                    <td class="mono">{record.hint}…</td>
                    <td class="mono">{record.channels.join(', ')}</td>
                    <td class="mono">{record.services.join(', ')}</td>
                    <td>{record.ratePerSecond}/s</td>
                    <td class="mono">{record.createdAt.slice(0, 19).replace('T', ' ')}</td>
                    <td>
                      <button type="button" onClick={() => void revoke(record)}>
                        Revoke
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </section>
  );
}
