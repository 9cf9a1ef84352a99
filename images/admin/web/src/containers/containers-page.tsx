// Containers of the compose project: state, health, resources, logs, and start/stop/restart.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, errorMessage, query } from '../api';
import type { ContainerInfo, ContainerList, ContainerLogs, ContainerStats, LogLine } from '../api-types';
import { ConfirmDialog } from '../confirm-dialog';
import { bytesOf, durationOf, timeOf } from '../format';
import { navigate } from '../router';
import { usePoll } from '../use-poll';

type Action = 'start' | 'stop' | 'restart';

const LOG_LINES_KEPT = 2000;

/** The archive filtered on a container's output, all time (an empty `from` is no lower bound). */
export function historyHref(container: string): string {
  return `/archive?${new URLSearchParams({ container, from: '' }).toString()}`;
}

export function ContainersPage() {
  const list = usePoll((signal) => api<ContainerList>('/api/containers', { signal }), 5000);
  const [stats, setStats] = useState<Record<string, ContainerStats | undefined>>({});
  const [logsOf, setLogsOf] = useState<ContainerInfo | undefined>();
  const [pending, setPending] = useState<{ container: ContainerInfo; action: Action } | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const containers = list.data?.containers ?? [];

  // resource figures of the running ones, each refreshed with the list
  useEffect(() => {
    const controller = new AbortController();
    for (const container of containers) {
      if (container.state !== 'running') {
        continue;
      }
      api<ContainerStats>(`/api/containers/${encodeURIComponent(container.id)}/stats`, { signal: controller.signal })
        .then((value) => setStats((current) => ({ ...current, [container.id]: value })))
        .catch(() => {
          // a refresh aborts the calls still running: keep their last figures meanwhile
          if (!controller.signal.aborted) {
            setStats((current) => ({ ...current, [container.id]: undefined }));
          }
        });
    }
    return () => controller.abort();
  }, [list.at]);

  const dockerDown = list.error instanceof ApiError && list.error.status === 503;
  return (
    <section class="page containers-page">
      <div class="page-head">
        <h2>Containers{list.data ? <span class="muted"> · project {list.data.project}</span> : null}</h2>
        <span class="muted small" data-refreshed>
          {list.at ? `refreshed ${timeOf(list.at.toISOString()).slice(0, 8)}` : list.loading ? 'loading…' : ''}
        </span>
      </div>
      {list.error && (
        <p class="banner error" role="alert" data-docker-error>
          {dockerDown
            ? `Docker is unreachable: ${list.error.message}. The rest of the admin keeps working.`
            : `Could not list the containers: ${errorMessage(list.error)}`}
        </p>
      )}
      {notice && (
        <p class="banner ok" role="status">
          {notice}
        </p>
      )}
      {containers.length > 0 && (
        <div class="table-wrap">
          <table class="table stack" aria-label="Containers">
            <thead>
              <tr>
                <th>name</th>
                <th>state</th>
                <th>health</th>
                <th>uptime</th>
                <th>image</th>
                <th>ports</th>
                <th>CPU</th>
                <th>memory</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {containers.map((container) => {
                const s = stats[container.id];
                return (
                  <tr key={container.id} data-container={container.name}>
                    <td data-label="name">
                      <div class="name-cell">
                        <strong>{container.service ?? container.name}</strong>
                        <div class="muted small mono">{container.name}</div>
                      </div>
                    </td>
                    <td data-label="state">
                      <span class={`pill state-${container.state}`}>{container.state}</span>
                    </td>
                    <td data-label="health">
                      {container.health ? (
                        <span class={`pill health-${container.health}`}>{container.health}</span>
                      ) : (
                        <span class="muted">–</span>
                      )}
                    </td>
                    <td data-label="uptime">
                      {container.state !== 'running'
                        ? '–'
                        : typeof container.uptimeSeconds === 'number'
                          ? durationOf(container.uptimeSeconds * 1000)
                          : container.startedAt
                            ? durationOf(Date.now() - Date.parse(container.startedAt))
                            : '–'}
                    </td>
                    <td data-label="image" class="mono small">
                      {container.image}
                    </td>
                    <td data-label="ports" class="mono small">
                      {portsOf(container.ports)}
                    </td>
                    <td data-label="CPU">{s ? `${s.cpuPercent.toFixed(1)} %` : '–'}</td>
                    <td data-label="memory">
                      {s
                        ? `${bytesOf(s.memoryBytes)}${s.memoryLimitBytes ? ` / ${bytesOf(s.memoryLimitBytes)}` : ''}`
                        : '–'}
                    </td>
                    <td class="actions">
                      <button type="button" onClick={() => setLogsOf(container)}>
                        Logs
                      </button>
                      <a class="button" href={historyHref(container.name)} data-history={container.name}>
                        History
                      </a>
                      {container.state === 'running' ? (
                        <>
                          <button type="button" onClick={() => setPending({ container, action: 'restart' })}>
                            Restart
                          </button>
                          <button
                            type="button"
                            class="danger-outline"
                            onClick={() => setPending({ container, action: 'stop' })}
                          >
                            Stop
                          </button>
                        </>
                      ) : (
                        <button type="button" onClick={() => setPending({ container, action: 'start' })}>
                          Start
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {list.data && containers.length === 0 && <div class="empty">No container of this project runs on this host.</div>}
      <HistoryForm />
      {logsOf && <LogsPanel container={logsOf} onClose={() => setLogsOf(undefined)} />}
      {pending && (
        <ConfirmDialog
          title={`${capitalize(pending.action)} ${pending.container.name}?`}
          name={pending.container.name}
          action={capitalize(pending.action)}
          danger={pending.action !== 'start'}
          onClose={() => setPending(undefined)}
          onConfirm={async () => {
            await api(`/api/containers/${encodeURIComponent(pending.container.id)}/${pending.action}`, {
              method: 'POST',
              body: { confirm: pending.container.name },
            });
            setNotice(`${capitalize(pending.action)} of ${pending.container.name} requested.`);
            list.reload();
          }}
        >
          <p>
            {pending.action === 'stop'
              ? 'Its service stops answering until it is started again.'
              : pending.action === 'restart'
                ? 'Its service is unavailable while it restarts.'
                : 'The container starts with its current configuration.'}
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}

/** A container's archived output by name or id: also for one that was removed. */
function HistoryForm() {
  const [name, setName] = useState('');
  return (
    <form
      class="card inline history-form"
      aria-label="Archived history of a container"
      onSubmit={(event) => {
        event.preventDefault();
        if (name.trim()) {
          navigate(historyHref(name.trim()));
        }
      }}
    >
      <label class="field grow">
        <span>Archived history of a container, also one that is gone</span>
        <input
          type="text"
          name="history"
          placeholder="container name or id"
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
        />
      </label>
      <button type="submit">Open</button>
    </form>
  );
}

function LogsPanel({ container, onClose }: { container: ContainerInfo; onClose: () => void }) {
  const [lines, setLines] = useState<LogLine[]>([]);
  const [follow, setFollow] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const box = useRef<HTMLPreElement>(null);
  const base = `/api/containers/${encodeURIComponent(container.id)}/logs`;

  useEffect(() => {
    if (follow) {
      return undefined;
    }
    const controller = new AbortController();
    setError(undefined);
    api<ContainerLogs>(`${base}${query({ tail: 300 })}`, { signal: controller.signal })
      .then((result) => setLines([...result.lines]))
      .catch((caught: unknown) => {
        if (!controller.signal.aborted) {
          setError(errorMessage(caught));
        }
      });
    return () => controller.abort();
  }, [base, follow]);

  useEffect(() => {
    if (!follow) {
      return undefined;
    }
    const source = new EventSource(`${base}${query({ follow: 1, tail: 100 })}`);
    const batch: LogLine[] = [];
    let frame = 0;
    setLines([]);
    source.addEventListener('line', (event: MessageEvent<string>) => {
      batch.push(JSON.parse(event.data) as LogLine);
      frame ||= requestAnimationFrame(() => {
        frame = 0;
        const added = batch.splice(0);
        setLines((current) => current.concat(added).slice(-LOG_LINES_KEPT));
      });
    });
    // the server ends the stream when the container stops (and stays stopped): no reconnecting then
    source.addEventListener('end', () => {
      source.close();
      setError('The log stream ended: the container stopped.');
    });
    source.onerror = () =>
      setError(source.readyState === EventSource.CLOSED ? 'The log stream ended.' : 'Reconnecting…');
    source.onopen = () => setError(undefined);
    return () => {
      source.close();
      cancelAnimationFrame(frame);
    };
  }, [base, follow]);

  useEffect(() => {
    if (box.current) {
      box.current.scrollTop = box.current.scrollHeight;
    }
  }, [lines]);

  return (
    <div class="card logs-panel" aria-label={`Logs of ${container.name}`}>
      <div class="side-head">
        <strong>Logs · {container.name}</strong>
        <div class="inline">
          <label class="check">
            <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.currentTarget.checked)} /> Follow
          </label>
          <button type="button" class="ghost" aria-label="Close" onClick={onClose}>
            ✕
          </button>
        </div>
      </div>
      {error && <p class="muted small">{error}</p>}
      <pre class="logs" ref={box}>
        {lines.map((line, index) => (
          <div key={index} class={line.stream === 'stderr' ? 'stderr' : ''}>
            <span class="muted">{line.ts ? timeOf(line.ts) : ''} </span>
            {line.text}
          </div>
        ))}
      </pre>
    </div>
  );
}

function portsOf(ports: unknown[]): string {
  const text = ports
    .map((port) => {
      if (typeof port === 'string') {
        return port;
      }
      if (port && typeof port === 'object') {
        const p = port as {
          PublicPort?: number;
          PrivatePort?: number;
          Type?: string;
          IP?: string;
          publicPort?: number;
          privatePort?: number;
          type?: string;
        };
        const pub = p.PublicPort ?? p.publicPort;
        const priv = p.PrivatePort ?? p.privatePort;
        const type = p.Type ?? p.type ?? 'tcp';
        return pub ? `${pub}→${priv}/${type}` : `${priv}/${type}`;
      }
      return '';
    })
    .filter(Boolean);
  return text.length > 0 ? [...new Set(text)].join(', ') : '–';
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
