// Entry point of the admin web UI.
import { render } from 'preact';
import { App } from './app';
import './styles.css';

declare const MUPETS_DEV_RELOAD: boolean;

const root = document.getElementById('app');
if (root) {
  render(<App />, root);
}

if (MUPETS_DEV_RELOAD) {
  // dev only (esbuild watch inside the admin): reload the page after each rebuild
  const source = new EventSource('/__dev/reload');
  source.addEventListener('reload', () => location.reload());
}
