// Broker: every channel's length, its consumer groups' progress, and its dead letters.
import { useState } from 'preact/hooks';
import { api, errorMessage, query } from '../api';
import type { BrokerOverview, DeadLetter, DeadLetterList, GroupStats, ReplayResult } from '../api-types';
import { ConfirmDialog } from '../confirm-dialog';
import { EnvelopeView } from '../envelope-view';
import { countOf, dateTimeOf, durationOf, plural, timeOf } from '../format';
import { usePoll } from '../use-poll';

export function BrokerPage() {
  const broker = usePoll((signal) => api<BrokerOverview>('/api/broker', { signal }), 5000);
  const [open, setOpen] = useState<string | undefined>();
  const [removing, setRemoving] = useState<{ channel: string; group: string } | undefined>();
  const [notice, setNotice] = useState<string | undefined>();

  return (
    <section class="page broker-page">
      <div class="page-head">
        <h2>Broker{broker.data ? <span class="muted"> · {broker.data.backend}</span> : null}</h2>
        <span class="muted small">{broker.at ? `refreshed ${timeOf(broker.at.toISOString()).slice(0, 8)}` : ''}</span>
      </div>
      {broker.error && (
        <p class="banner error" role="alert">
          Broker: {errorMessage(broker.error)}
        </p>
      )}
      {notice && <p class="banner ok">{notice}</p>}
      <div class="channel-grid">
        {(broker.data?.channels ?? []).map((channel) => (
          <article class="card channel" key={channel.channel} data-channel={channel.channel}>
            <header class="channel-head">
              <h3>{channel.channel}</h3>
              <div class="figures">
                <Figure label="entries" value={countOf(channel.length)} />
                <Figure label="groups" value={countOf(channel.groups.length)} />
                <Figure label="dead letters" value={countOf(channel.deadLetters)} warn={channel.deadLetters > 0} />
              </div>
            </header>
            {channel.groups.length > 0 ? (
              <div class="table-wrap">
                <table class="table compact">
                  <thead>
                    <tr>
                      <th>group</th>
                      <th>consumers</th>
                      <th>pending</th>
                      <th>lag</th>
                      <th>oldest pending</th>
                      <th>trimming</th>
                      <th />
                    </tr>
                  </thead>
                  <tbody>
                    {channel.groups.map((group) => (
                      <tr key={group.name}>
                        <td class="mono">{group.name}</td>
                        <td>{countOf(group.consumers)}</td>
                        <td class={group.pending > 0 ? 'warn-text' : ''}>{countOf(group.pending)}</td>
                        <td class={group.lag ? 'warn-text' : ''}>
                          {group.lag === null ? 'unknown' : countOf(group.lag)}
                        </td>
                        <td>{durationOf(group.oldestPendingAgeMs)}</td>
                        <td class={heldBack(group) ? 'warn-text' : 'muted'} data-trimming={group.name}>
                          {trimmingText(group)}
                        </td>
                        <td>
                          <button
                            type="button"
                            class="ghost"
                            onClick={() => setRemoving({ channel: channel.channel, group: group.name })}
                          >
                            Remove
                          </button>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            ) : (
              <p class="muted small">No consumer group reads this channel.</p>
            )}
            <div class="channel-foot">
              <button
                type="button"
                disabled={channel.deadLetters === 0 && open !== channel.channel}
                onClick={() => setOpen(open === channel.channel ? undefined : channel.channel)}
              >
                {open === channel.channel ? 'Hide dead letters' : `Dead letters (${countOf(channel.deadLetters)})`}
              </button>
            </div>
            {open === channel.channel && <DeadLetters channel={channel.channel} onChanged={broker.reload} />}
          </article>
        ))}
      </div>
      {removing && (
        <ConfirmDialog
          title="Remove this consumer group?"
          name={removing.group}
          action="Remove"
          danger
          onClose={() => setRemoving(undefined)}
          onConfirm={async () => {
            await api<void>(
              `/api/broker/${encodeURIComponent(removing.channel)}/groups/${encodeURIComponent(removing.group)}`,
              { method: 'DELETE' },
            );
            setNotice(`Group ${removing.group} removed from ${removing.channel}.`);
            broker.reload();
          }}
        >
          <p>
            For a service that is gone for good: its group keeps every entry it has not read or acked, so{' '}
            <strong>{removing.channel}</strong> is never trimmed past them. Its positions are deleted; a consumer that
            starts again under this name reads the channel from its start. Refused while a consumer of it still reads.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}

/** Whether the group keeps entries from being trimmed: un-acked or unread ones (lag unknown counts). */
function heldBack(group: GroupStats): boolean {
  return group.pending > 0 || group.lag !== 0;
}

function trimmingText(group: GroupStats): string {
  if (!heldBack(group)) {
    return 'not held';
  }
  if (group.lag === null) {
    return `holds ${countOf(group.pending)}+ entries`;
  }
  return `holds ${plural(group.pending + group.lag, 'entry', 'entries')}`;
}

function Figure({ label, value, warn }: { label: string; value: string; warn?: boolean }) {
  return (
    <div class={`figure${warn ? ' warn' : ''}`}>
      <span class="figure-value">{value}</span>
      <span class="figure-label">{label}</span>
    </div>
  );
}

function DeadLetters({ channel, onChanged }: { channel: string; onChanged: () => void }) {
  const list = usePoll(
    (signal) =>
      api<DeadLetterList>(`/api/broker/${encodeURIComponent(channel)}/dead-letters${query({ limit: 100 })}`, {
        signal,
      }),
    0,
    [channel],
  );
  const [replaying, setReplaying] = useState<DeadLetter | undefined>();
  const [shown, setShown] = useState<string | undefined>();
  const [notice, setNotice] = useState<string | undefined>();

  return (
    <div class="dead-letters">
      {list.error && <p class="error-text">{errorMessage(list.error)}</p>}
      {notice && <p class="banner ok">{notice}</p>}
      {list.data?.deadLetters.length === 0 && <p class="muted small">No dead letters.</p>}
      <ul class="dl-list">
        {list.data?.deadLetters.map((letter) => (
          <li key={letter.id} data-dead-letter={letter.id}>
            <div class="dl-line">
              <div class="dl-info">
                <span class="mono">{letter.envelope?.type ?? '(not an envelope)'}</span>
                <span class="muted small">
                  {dateTimeOf(letter.ts)} · group {letter.group ?? '?'} ·{' '}
                  {letter.deliveries === null ? '? deliveries' : plural(letter.deliveries, 'delivery', 'deliveries')}
                </span>
              </div>
              <button type="button" class="ghost" onClick={() => setShown(shown === letter.id ? undefined : letter.id)}>
                {shown === letter.id ? 'Hide' : 'Show'}
              </button>
              <button type="button" disabled={!letter.envelope} onClick={() => setReplaying(letter)}>
                Replay
              </button>
            </div>
            <p class="dl-error">{errorText(letter.error)}</p>
            {shown === letter.id && <EnvelopeView value={letter.envelope ?? letter.rawFields} />}
          </li>
        ))}
      </ul>
      {replaying && (
        <ConfirmDialog
          title="Replay this dead letter?"
          name={replaying.envelope?.type ?? replaying.id}
          action="Replay"
          onClose={() => setReplaying(undefined)}
          onConfirm={async () => {
            const result = await api<ReplayResult>(
              `/api/broker/${encodeURIComponent(channel)}/dead-letters/${encodeURIComponent(replaying.id)}/replay`,
              { method: 'POST' },
            );
            setNotice(`Published again as ${result.brokerId}.`);
            list.reload();
            onChanged();
          }}
        >
          <p>
            The original envelope is published again on <strong>{channel}</strong> and the dead letter removed. Its
            consumers will process it once more.
          </p>
        </ConfirmDialog>
      )}
    </div>
  );
}

function errorText(error: DeadLetter['error']): string {
  if (!error) {
    return 'no error recorded';
  }
  if (typeof error === 'string') {
    return error;
  }
  const head = [error.name, error.message].filter(Boolean).join(': ') || 'error';
  return error.issues === undefined ? head : `${head} ${JSON.stringify(error.issues)}`;
}
