// Submit an event, then follow it: sent -> seen on the live stream -> archived.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, errorMessage, query } from '../api';
import { LEVELS, type BrokerOverview, type Issue, type LiveEntry, type SubmittedEvent } from '../api-types';
import { usePoll } from '../use-poll';
import { checkJsonObject } from './json-check';

interface Form {
  channel: string;
  type: string;
  level: string;
  message: string;
  data: string;
}

type Stage = 'sending' | 'sent' | 'seen' | 'archived';

interface Tracking {
  id: string;
  brokerId: string;
  channel: string;
  stage: Stage;
  /** The stream was not seen delivering it in time (it may still be archived). */
  notSeen?: boolean;
  archiveError?: string;
}

const FIELDS = ['channel', 'type', 'level', 'message', 'data'] as const;
const ARCHIVE_WAIT_MS = 60_000;
const SEEN_WAIT_MS = 15_000;

export function SubmitPage() {
  const [form, setForm] = useState<Form>({
    channel: 'events',
    type: '',
    level: 'info',
    message: '',
    data: '{\n  \n}',
  });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | undefined>();
  const [tracking, setTracking] = useState<Tracking | undefined>();
  const cleanup = useRef<(() => void)[]>([]);
  const broker = usePoll((signal) => api<BrokerOverview>('/api/broker', { signal }), 0);
  const channels = (broker.data?.channels ?? []).map((c) => c.channel);

  useEffect(
    () => () => {
      for (const stop of cleanup.current) {
        stop();
      }
    },
    [],
  );

  const validate = (): { ok: boolean; data?: Record<string, unknown> } => {
    const found: Record<string, string> = {};
    if (!form.type.trim()) {
      found.type = 'A type is required, e.g. user.signed-up.';
    } else if (!/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/.test(form.type.trim())) {
      found.type = 'Letters, digits and . _ - : / (at most 128), starting with a letter or digit.';
    }
    if (form.channel && !/^[a-z0-9][a-z0-9._-]{0,47}$/.test(form.channel)) {
      found.channel = 'Lower-case letters, digits, ".", "_" and "-" (at most 48).';
    }
    const json = checkJsonObject(form.data);
    if (!json.ok) {
      found.data = json.message;
    }
    setErrors(found);
    return { ok: Object.keys(found).length === 0, data: json.ok ? json.value : undefined };
  };

  const stopTracking = (): void => {
    for (const stop of cleanup.current) {
      stop();
    }
    cleanup.current = [];
  };

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setFormError(undefined);
    const { ok, data } = validate();
    if (!ok) {
      return;
    }
    stopTracking();
    const channel = form.channel || 'events';
    // listen first, so the event cannot pass by before the stream is open
    const seen = watchStream(channel);
    cleanup.current.push(seen.close);
    setTracking({ id: '', brokerId: '', channel, stage: 'sending' });
    try {
      await seen.opened;
      const body = {
        ...(form.channel ? { channel: form.channel } : {}),
        type: form.type.trim(),
        ...(form.level ? { level: form.level } : {}),
        ...(form.message ? { message: form.message } : {}),
        ...(data ? { data } : {}),
      };
      const sent = await api<SubmittedEvent>('/api/events', {
        method: 'POST',
        body,
      });
      setTracking({ ...sent, stage: 'sent' });
      seen.expect(sent.id, () =>
        setTracking((t) => (t && t.id === sent.id && t.stage === 'sent' ? { ...t, stage: 'seen' } : t)),
      );
      const seenTimer = setTimeout(
        () => setTracking((t) => (t && t.id === sent.id && t.stage === 'sent' ? { ...t, notSeen: true } : t)),
        SEEN_WAIT_MS,
      );
      cleanup.current.push(() => clearTimeout(seenTimer));
      cleanup.current.push(
        pollArchived(sent.channel, sent.id, (result) =>
          setTracking((t) =>
            t && t.id === sent.id
              ? result.ok
                ? { ...t, stage: 'archived', notSeen: t.stage === 'sent' ? true : t.notSeen }
                : { ...t, archiveError: result.error }
              : t,
          ),
        ),
      );
    } catch (caught) {
      seen.close();
      setTracking(undefined);
      if (caught instanceof ApiError && caught.issues.length > 0) {
        const byField: Record<string, string> = {};
        const other: string[] = [];
        for (const issue of caught.issues) {
          const field = fieldOf(issue);
          if (field) {
            byField[field] = byField[field] ? `${byField[field]} ${issue.message}` : issue.message;
          } else {
            other.push(`${issue.field}: ${issue.message}`);
          }
        }
        setErrors(byField);
        setFormError(other.length > 0 ? other.join('; ') : 'The server refused the event: see the marked fields.');
      } else {
        setFormError(`Not sent: ${errorMessage(caught)}`);
      }
    }
  };

  const input = (name: keyof Form) => ({
    value: form[name],
    'aria-invalid': errors[name] ? true : undefined,
    'aria-describedby': errors[name] ? `err-${name}` : undefined,
    onInput: (e: { currentTarget: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement }) =>
      setForm({ ...form, [name]: e.currentTarget.value }),
  });
  const fieldError = (name: keyof Form) =>
    errors[name] ? (
      <span class="field-error" id={`err-${name}`} role="alert" data-error-for={name}>
        {errors[name]}
      </span>
    ) : null;

  return (
    <section class="page submit-page">
      <form class="card submit-form" onSubmit={(e) => void submit(e)} noValidate>
        <h2>Submit an event</h2>
        <div class="row2">
          <label class="field">
            <span>Channel</span>
            <input type="text" name="channel" placeholder="events" list="channel-names" {...input('channel')} />
            <datalist id="channel-names">
              {channels.map((channel) => (
                <option key={channel} value={channel} />
              ))}
            </datalist>
            {fieldError('channel')}
          </label>
          <label class="field">
            <span>Level</span>
            <select name="level" {...input('level')}>
              <option value="">none</option>
              {LEVELS.map((level) => (
                <option key={level} value={level}>
                  {level}
                </option>
              ))}
            </select>
            {fieldError('level')}
          </label>
        </div>
        <label class="field">
          <span>
            Type <em class="req">required</em>
          </span>
          <input type="text" name="type" placeholder="user.signed-up" {...input('type')} />
          {fieldError('type')}
        </label>
        <label class="field">
          <span>Message</span>
          <input type="text" name="message" placeholder="A human-readable line" {...input('message')} />
          {fieldError('message')}
        </label>
        <label class="field">
          <span>Data (a JSON object)</span>
          <textarea name="data" rows={9} spellcheck={false} class="mono" {...input('data')} />
          {fieldError('data')}
        </label>
        {formError && (
          <p class="banner error" role="alert">
            {formError}
          </p>
        )}
        <div class="form-actions">
          <button type="submit" class="primary" disabled={tracking?.stage === 'sending'}>
            Send event
          </button>
        </div>
      </form>
      {tracking && <Progress tracking={tracking} />}
    </section>
  );
}

function Progress({ tracking }: { tracking: Tracking }) {
  const order: Stage[] = ['sending', 'sent', 'seen', 'archived'];
  const reached = (stage: Stage): boolean => order.indexOf(tracking.stage) >= order.indexOf(stage);
  const steps: { stage: Stage; label: string }[] = [
    { stage: 'sent', label: 'Sent' },
    { stage: 'seen', label: 'Seen on the stream' },
    { stage: 'archived', label: 'Archived' },
  ];
  return (
    <div class="card progress" data-stage={tracking.stage} aria-live="polite">
      <h2>Following the event</h2>
      {tracking.id && (
        <p class="muted mono small">
          {tracking.channel} / {tracking.id} (broker id {tracking.brokerId})
        </p>
      )}
      <ol class="steps">
        {steps.map(({ stage, label }) => {
          const done = reached(stage) && !(stage === 'seen' && tracking.notSeen);
          const failed = stage === 'seen' && tracking.notSeen;
          return (
            <li key={stage} class={done ? 'done' : failed ? 'skipped' : 'waiting'} data-step={stage}>
              <span class="step-dot" aria-hidden="true">
                {done ? '✓' : failed ? '–' : '…'}
              </span>
              {label}
              {failed && <span class="muted small"> (not seen on the live stream)</span>}
            </li>
          );
        })}
      </ol>
      {tracking.stage === 'archived' && (
        <a
          class="button"
          href={`/archive?record=${encodeURIComponent(`${tracking.channel}/${tracking.id}`)}`}
          data-record-link
        >
          Open the archived record
        </a>
      )}
      {tracking.archiveError && <p class="error-text">{tracking.archiveError}</p>}
    </div>
  );
}

/** The server's issue names a field of the form (`data.x` counts as data). */
function fieldOf(issue: Issue): (typeof FIELDS)[number] | undefined {
  const head = issue.field.split(/[.[]/)[0] ?? '';
  return (FIELDS as readonly string[]).includes(head) ? (head as (typeof FIELDS)[number]) : undefined;
}

/** Opens the live stream of one channel; `expect` calls back once the envelope id goes by. */
function watchStream(channel: string): {
  opened: Promise<void>;
  expect: (id: string, onSeen: () => void) => void;
  close: () => void;
} {
  const source = new EventSource(`/api/live${query({ channels: channel })}`);
  const seenIds = new Set<string>();
  let waiting: { id: string; onSeen: () => void } | undefined;
  const opened = new Promise<void>((resolve) => {
    // `ready` comes once the stream's starting position is fixed: what is sent after it is seen
    source.addEventListener('ready', () => resolve(), { once: true });
    // a stream that cannot open (e.g. a channel the admin does not carry) must not block sending:
    // "seen" then just never comes, and the server's answer to the event says what is wrong
    source.addEventListener('error', () => resolve(), { once: true });
    setTimeout(resolve, 3000);
  });
  source.addEventListener('entries', (event: MessageEvent<string>) => {
    for (const entry of JSON.parse(event.data) as LiveEntry[]) {
      seenIds.add(entry.envelope.id);
      if (waiting && entry.envelope.id === waiting.id) {
        waiting.onSeen();
        source.close();
      }
    }
  });
  return {
    opened,
    expect: (id, onSeen) => {
      if (seenIds.has(id)) {
        onSeen();
        source.close();
        return;
      }
      waiting = { id, onSeen };
    },
    close: () => source.close(),
  };
}

/** Polls the archive for the record until it is there (or a minute passed); returns a stop function. */
function pollArchived(
  channel: string,
  id: string,
  done: (result: { ok: true } | { ok: false; error: string }) => void,
): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const started = Date.now();
  const poll = async (): Promise<void> => {
    try {
      await api(`/api/archive/records/${encodeURIComponent(channel)}/${encodeURIComponent(id)}`);
      if (!stopped) {
        done({ ok: true });
      }
      return;
    } catch (caught) {
      if (stopped) {
        return;
      }
      if (!(caught instanceof ApiError && caught.status === 404)) {
        if (caught instanceof ApiError && caught.status !== 503) {
          done({ ok: false, error: `Archive: ${errorMessage(caught)}` });
          return;
        }
      }
      if (Date.now() - started > ARCHIVE_WAIT_MS) {
        done({ ok: false, error: 'Not archived after a minute: is the log-archiver running?' });
        return;
      }
      timer = setTimeout(() => void poll(), 500);
    }
  };
  timer = setTimeout(() => void poll(), 300);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
