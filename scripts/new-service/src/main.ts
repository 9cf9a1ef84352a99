// npm run new:service -- <name> [--http] [--consume <channel>]: a new cargo service (docs/cargo-services.md).
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { generateService, GeneratorRefusal } from './generate';

const USAGE = `usage: npm run new:service -- <name> [--http] [--consume <channel>]

Creates images/<name>/ (a cargo service with its tests and Dockerfiles) and adds it to
docker-compose.dev.yml and docker-compose.prod.yml.

  <name>               lower-case letters, digits and hyphens (order-mailer)
  --http               an HTTP endpoint that publishes requests on a channel
  --consume <channel>  a consumer of <channel> in the service's own group, publishing its results
                       on the events channel
With neither option the service shows both, on the events channel.
`;

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: { http: { type: 'boolean' }, consume: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    process.stderr.write(`expected one service name, got ${positionals.length}\n\n${USAGE}`);
    return 2;
  }
  const neither = !values.http && values.consume === undefined;
  try {
    const result = await generateService({
      root: resolve(__dirname, '../../..'),
      name: positionals[0]!,
      http: neither || values.http === true,
      consume: neither ? 'events' : values.consume,
    });
    const { kebab, snake } = result.names;
    const lines = [
      `created images/${kebab}/ (${result.features.join(' + ')}, channel ${result.channel}) and added ${kebab} to`,
      'docker-compose.dev.yml and docker-compose.prod.yml; package-lock.json records the new workspace.',
      '',
      'next:',
      `  npx jest images/${kebab}                                  # its tests, against a real Redis`,
      `  docker compose -f docker-compose.dev.yml up -d --build ${kebab}   # dev: edits restart it`,
    ];
    if (result.features.includes('http')) {
      lines.push(
        `  dev API: http://127.0.0.1:${result.apiHostPort}/api/greetings (MUPETS_${result.names.env}_PORT)`,
        `  prod: put its API token in deploy/secrets/${snake}_api_token (at least 16 characters)`,
      );
    }
    lines.push(
      `  dev inspector (with MUPETS_INSPECT=0.0.0.0:9229): docker compose -f docker-compose.dev.yml port ${kebab} 9229`,
      '  guide: docs/cargo-services.md',
      '',
    );
    process.stdout.write(lines.join('\n'));
    return 0;
  } catch (error) {
    if (error instanceof GeneratorRefusal) {
      process.stderr.write(`new:service: ${error.message}\nNothing was changed.\n`);
      return 1;
    }
    process.stderr.write(
      `new:service failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return 1;
  }
}

void main().then((code) => {
  process.exitCode = code;
});
