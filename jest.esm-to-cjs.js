// @ts-check
/**
 * Jest 29 runs test code as CommonJS in its own module runtime, which cannot load an ES module.
 * The Kafka client (`@platformatic/kafka`) and two of its own dependencies ship as ES modules only:
 * Node (20.19 and later, so every Node this project runs on) loads them with `require()` natively (services, benches and spawned test fixtures do
 * exactly that), but inside jest they are transpiled to CommonJS here, with TypeScript's transpiler.
 * Two ES-module idioms have no CommonJS form, so they are rewritten first: `import.meta.url`, and a
 * module-level `const require = createRequire(...)` (in CommonJS `require` is already declared; in an
 * ES module every `require` refers to that local binding, so renaming them all is safe).
 */
const { createHash } = require('node:crypto');
const { readFileSync } = require('node:fs');
const ts = require('typescript');

// a change to this file must invalidate jest's cache of what it produced
const SELF = readFileSync(__filename);

/** @type {import('@jest/transform').SyncTransformer} */
module.exports = {
  process(source, filename) {
    let patched = source;
    if (/\bconst require\b/.test(patched)) {
      patched = patched.replace(/\brequire\b/g, '__esmRequire');
    }
    patched = patched.replace(/\bimport\.meta\.url\b/g, "require('node:url').pathToFileURL(__filename).href");
    const { outputText } = ts.transpileModule(patched, {
      fileName: filename,
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
        allowJs: true,
        sourceMap: false,
      },
    });
    return { code: outputText };
  },
  getCacheKey(source, filename) {
    return createHash('sha256').update(SELF).update(ts.version).update(filename).update(source).digest('hex');
  },
};
