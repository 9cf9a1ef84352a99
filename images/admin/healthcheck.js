// Docker HEALTHCHECK of the admin images: exit 0 when GET /readyz on ADMIN_PORT answers 200, 1 otherwise.
// Plain CommonJS with no dependencies, so the image needs no curl and the check needs no build step.
'use strict';

const http = require('node:http');

const TIMEOUT_MS = 2500;
const port = Number(process.env.ADMIN_PORT || 8080);
// the server binds ADMIN_HOST; a wildcard address is reached through loopback
const bound = process.env.ADMIN_HOST || '0.0.0.0';
const host = bound === '0.0.0.0' || bound === '::' ? '127.0.0.1' : bound;

function done(code, reason) {
  if (code !== 0) {
    process.stderr.write(`healthcheck: ${reason}\n`);
  }
  process.exit(code);
}

if (!Number.isInteger(port) || port < 1 || port > 65535) {
  done(1, `ADMIN_PORT=${process.env.ADMIN_PORT} cannot be probed (a fixed port is needed for the healthcheck)`);
}

const request = http.get({ host, port, path: '/readyz', timeout: TIMEOUT_MS }, (response) => {
  let body = '';
  response.setEncoding('utf8');
  response.on('data', (chunk) => {
    body += chunk;
  });
  response.on('end', () => {
    done(response.statusCode === 200 ? 0 : 1, `readyz answered ${response.statusCode}: ${body.slice(0, 500)}`);
  });
});
request.on('timeout', () => request.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
request.on('error', (error) => done(1, `http://${host}:${port}/readyz: ${error.message}`));
