// The frame every page shares: header (navigation, status dots, Studio, logout) and the page.
import { Component, type ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, forgetSession } from './api';
import type { Status } from './api-types';
import { ArchivePage } from './archive/archive-page';
import { BrokerPage } from './broker/broker-page';
import { ContainersPage } from './containers/containers-page';
import { LivePage } from './live/live-page';
import { LoginPage } from './login/login-page';
import { navigate, onLinkClick, useLocation } from './router';
import { SubmitPage } from './submit/submit-page';
import { TokensPage } from './tokens/tokens-page';
import { usePoll } from './use-poll';

const PAGES = [
  { path: '/live', label: 'Live' },
  { path: '/archive', label: 'Archive' },
  { path: '/submit', label: 'Submit' },
  { path: '/containers', label: 'Containers' },
  { path: '/broker', label: 'Broker' },
  { path: '/tokens', label: 'Tokens' },
] as const;

export function App() {
  const { path } = useLocation();
  useEffect(() => {
    if (path === '/') {
      navigate('/live', true);
    }
  }, [path]);
  if (path === '/login') {
    return <LoginPage />;
  }
  return (
    <div class="shell" onClick={onLinkClick}>
      <Header path={path} />
      <main class="main">
        <PageBoundary key={path}>{pageFor(path)}</PageBoundary>
      </main>
    </div>
  );
}

function pageFor(path: string) {
  switch (path) {
    case '/archive':
      return <ArchivePage />;
    case '/submit':
      return <SubmitPage />;
    case '/containers':
      return <ContainersPage />;
    case '/broker':
      return <BrokerPage />;
    case '/tokens':
      return <TokensPage />;
    default:
      return <LivePage />;
  }
}

function Header({ path }: { path: string }) {
  const [menuOpen, setMenuOpen] = useState(false);
  const status = usePoll((signal) => api<Status>('/api/status', { signal }), 10_000);
  useEffect(() => setMenuOpen(false), [path]);

  const logout = async (): Promise<void> => {
    try {
      await api('/api/logout', { method: 'POST' });
    } finally {
      forgetSession();
      location.assign('/login');
    }
  };

  const s = status.data;
  return (
    <header class="header">
      <a href="/live" class="brand" aria-label="Mupets admin">
        <span class="brand-mark" aria-hidden="true">
          ◆
        </span>
        <span>Mupets</span>
      </a>
      <button
        type="button"
        class="menu-toggle ghost"
        aria-expanded={menuOpen}
        aria-controls="nav"
        onClick={() => setMenuOpen(!menuOpen)}
      >
        ☰<span class="sr-only">Menu</span>
      </button>
      <nav id="nav" class={`nav${menuOpen ? ' open' : ''}`}>
        {PAGES.map((page) => (
          <a
            key={page.path}
            href={page.path}
            class={path === page.path ? 'active' : ''}
            aria-current={path === page.path ? 'page' : undefined}
          >
            {page.label}
          </a>
        ))}
      </nav>
      <div class="status" data-status>
        <StatusDot name="Broker" ok={s?.broker.ok} detail={s?.broker.error ?? s?.broker.backend} />
        <StatusDot name="Archive" ok={s?.archive.ok} detail={s?.archive.error} />
        <StatusDot name="Docker" ok={s?.docker.ok} detail={s?.docker.error ?? s?.docker.project ?? undefined} />
        {s?.studio.reachable && s.studio.url && (
          <a class="studio" href={s.studio.url} target="_blank" rel="noopener noreferrer">
            Studio ↗
          </a>
        )}
        <button type="button" class="ghost logout" onClick={() => void logout()}>
          Log out
        </button>
      </div>
    </header>
  );
}

function StatusDot({ name, ok, detail }: { name: string; ok: boolean | undefined; detail: string | undefined }) {
  const state = ok === undefined ? 'unknown' : ok ? 'up' : 'down';
  const title = `${name}: ${ok === undefined ? 'checking' : ok ? 'up' : 'down'}${detail ? ` (${detail})` : ''}`;
  return (
    <span class="dot-label" title={title} data-dot={name.toLowerCase()} data-state={state}>
      <span class={`dot dot-${state}`} aria-hidden="true" />
      <span class="dot-name">{name}</span>
      <span class="sr-only">{title}</span>
    </span>
  );
}

/** A page that throws while rendering shows the error; the header and the other pages keep working. */
class PageBoundary extends Component<{ children: ComponentChildren }, { error?: Error }> {
  override state: { error?: Error } = {};

  override componentDidCatch(error: unknown): void {
    this.setState({ error: error instanceof Error ? error : new Error(String(error)) });
  }

  override render() {
    if (this.state.error) {
      return (
        <section class="page">
          <p class="banner error" role="alert">
            This page failed: {this.state.error.message}
          </p>
        </section>
      );
    }
    return this.props.children;
  }
}
