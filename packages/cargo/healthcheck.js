// Docker HEALTHCHECK of every cargo image: exit 0 when GET /readyz answers 200, 1 otherwise.
// Plain CommonJS with no dependencies, so the image needs no curl and the check needs no build step.
//
//   node packages/cargo/healthcheck.js [PREFIX]
//
// The service's health server listens on <PREFIX>_PORT and binds <PREFIX>_HOST; PREFIX defaults to
// HEALTH (the log-archiver's HEALTH_PORT); the admin serves /readyz on ADMIN_PORT: `... ADMIN`.
'use strict';

const http = require('node:http');

const TIMEOUT_MS = 2500;
const prefix = process.argv[2] || 'HEALTH';
const portVar = `${prefix}_PORT`;
const port = Number(process.env[portVar] || 8080);
// a wildcard address is reached through loopback
const bound = process.env[`${prefix}_HOST`] || '0.0.0.0';
const host = bound === '0.0.0.0' || bound === '::' ? '127.0.0.1' : bound;

function done(code, reason) {
  if (code !== 0) {
    process.stderr.write(`healthcheck: ${reason}\n`);
  }
  process.exit(code);
}

if (!Number.isInteger(port) || port < 1 || port > 65535) {
  done(1, `${portVar}=${process.env[portVar]} cannot be probed (a fixed port is needed for the healthcheck)`);
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
