// A process serving only the UI router in watch mode (dev): the dev-reload browser test runs it
// apart, because esbuild's watch is loaded with import(), which jest's module sandbox refuses.
import express from 'express';
import { createUiRouter } from '../../src/ui';
import { silentLogger } from './silent-logger';

const ui = createUiRouter({
  dir: process.env.UI_DIR ?? '',
  sourceDir: process.env.UI_SOURCE_DIR ?? '',
  watch: true,
  logger: {
    ...silentLogger,
    info: (message) => process.stdout.write(`${message}\n`),
    warn: (message) => process.stdout.write(`${message}\n`),
    debug: (message) => process.stdout.write(`${message}\n`),
  },
});
const app = express();
app.use(ui);
const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : 0}\n`);
});
process.once('SIGTERM', () => {
  void ui.close().then(() => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
});
