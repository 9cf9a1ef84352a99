// Builds the admin web UI: web/src/main.tsx -> web/dist/ (hashed assets under assets/, index.html).
// `node web/build.mjs` builds once (minified, sourcemaps); `--watch` rebuilds on change. The admin
// process imports buildOptions() too, to run the same build in watch mode inside itself (dev).
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const WEB_DIR = dirname(fileURLToPath(import.meta.url));
export const DEFAULT_OUT_DIR = join(WEB_DIR, 'dist');
export const DEFAULT_SOURCE_DIR = join(WEB_DIR, 'src');

/**
 * esbuild options for the UI.
 * @param {{ outdir?: string, sourceDir?: string, dev?: boolean, onBuilt?: (errors: number) => void }} options
 *   dev: not minified, and the page listens for live reloads; onBuilt: called after every build;
 *   sourceDir: web/src by default (the dev-reload test edits a copy).
 * @returns {import('esbuild').BuildOptions}
 */
export function buildOptions({ outdir = DEFAULT_OUT_DIR, sourceDir = DEFAULT_SOURCE_DIR, dev = false, onBuilt } = {}) {
  return {
    entryPoints: [join(sourceDir, 'main.tsx')],
    // preact and friends from the workspace, wherever the sources are
    nodePaths: [join(WEB_DIR, '../../../node_modules'), join(WEB_DIR, '../node_modules')],
    outdir: join(outdir, 'assets'),
    bundle: true,
    format: 'esm',
    target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    minify: !dev,
    sourcemap: 'linked',
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    metafile: true,
    logLevel: 'silent',
    define: { MUPETS_DEV_RELOAD: dev ? 'true' : 'false' },
    plugins: [indexHtmlPlugin(outdir, onBuilt)],
  };
}

/** Writes index.html naming this build's hashed files, and removes the files of older builds. */
function indexHtmlPlugin(outdir, onBuilt) {
  return {
    name: 'mupets-index-html',
    setup(build) {
      build.onEnd(async (result) => {
        if (result.errors.length > 0 || !result.metafile) {
          onBuilt?.(result.errors.length);
          return;
        }
        const outputs = Object.keys(result.metafile.outputs).map((file) => relative(outdir, file));
        const script = outputs.find((file) => file.endsWith('.js'));
        const style = outputs.find((file) => file.endsWith('.css'));
        await writeFile(join(outdir, 'index.html'), indexHtml(script, style));
        const keep = new Set(outputs.map((file) => basename(file)));
        for (const file of await readdir(join(outdir, 'assets'))) {
          if (!keep.has(file)) {
            await rm(join(outdir, 'assets', file), { force: true });
          }
        }
        onBuilt?.(0);
      });
    },
  };
}

function indexHtml(script, style) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Mupets admin</title>
${style ? `<link rel="stylesheet" href="/${style}">` : ''}
<script type="module" src="/${script}"></script>
</head>
<body>
<div id="app"></div>
</body>
</html>
`;
}

async function main() {
  const watch = process.argv.includes('--watch');
  // --outdir <dir>: build elsewhere than web/dist (the browser tests build into a temporary directory)
  const outdirIndex = process.argv.indexOf('--outdir');
  const outdir = outdirIndex > 0 && process.argv[outdirIndex + 1] ? process.argv[outdirIndex + 1] : DEFAULT_OUT_DIR;
  await mkdir(join(outdir, 'assets'), { recursive: true });
  if (watch) {
    const context = await esbuild.context(
      buildOptions({
        outdir,
        dev: true,
        onBuilt: (errors) => process.stdout.write(errors ? `web: build failed (${errors} errors)\n` : 'web: built\n'),
      }),
    );
    await context.watch();
    return;
  }
  const result = await esbuild.build(buildOptions({ outdir }));
  const bytes = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
  process.stdout.write(`web: built ${Object.keys(result.metafile.outputs).length} files, ${bytes} bytes\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
