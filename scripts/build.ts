/**
 * `npm run build` (and `prepare`): what bin/status-validator.js runs, dist/cli/index.js, as
 * an ESM bundle, and the same code as one classic script, dist/script/cli.js, which Node 20
 * runs with a V8 code cache (src/cli/code-cache.ts). Loading ~600 modules one by one cost a
 * `run` ~350 ms before its first Sheets read (issue 25, bench B1); a bundle is a handful of
 * files. Types are checked by `npm run typecheck` (tsc --noEmit), not here: esbuild only
 * strips them.
 */
import { build, type Metafile } from 'esbuild';
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = path.join(ROOT, 'dist');

/**
 * Left to node_modules at run time:
 * - better-sqlite3: a native addon, found by its `bindings` next to its own files.
 * - pg: src/cache/postgres/target.ts requires it through createRequire (a run on SQLite must
 *   not load it), which esbuild cannot follow; bundling the static imports as well would
 *   load a second copy of pg beside that one. pg-native is pg's optional native driver,
 *   required only if a user asks for it (not installed here).
 * - cli-progress: required through createRequire (on a terminal only), as pg.
 */
export const EXTERNAL = ['better-sqlite3', 'pg', 'pg-native', 'cli-progress'];

/**
 * Code a plain `run` must not load: each of these is reached only through a lazy import
 * (a command's in src/cli/main.ts, the tokenizer's, undici's), so it lands in a chunk of its
 * own. The build fails if one is pulled into what `run` loads before its first request again.
 */
const NOT_IN_A_RUN = [/node_modules\/prom-client\//, /node_modules\/fuzzball\//, /^src\/server\//, /^src\/commands\/serve\.ts$/, /node_modules\/gpt-tokenizer\//, /node_modules\/croner\//, /node_modules\/undici\//, /^src\/cache\/postgres\/(db|locks)\.ts$/];

/**
 * What both builds write, and how. Whitespace and syntax minified (what a run loads: 2.55 MB
 * of code to parse down to 1.73 MB, ~60 ms of CPU a run, measured with bench B1's runs),
 * names kept: a stack trace a user pastes still names the functions. The linked map leads it
 * back to src/ lines (node --enable-source-maps, or any map-aware tool); Node reads it only
 * when asked, so startup pays nothing for it. Paths and lines only in the map: a trace names
 * src/ files, which a clone has (dist/ stays half the size).
 */
const OUTPUT = { minifyWhitespace: true, minifySyntax: true, sourcemap: 'linked', sourcesContent: false, metafile: true, logLevel: 'warning' } as const;

/**
 * Builds dist/ from src/ and returns the files the entry loads before any command runs. Built
 * in a folder of its own, then renamed to dist/: test files building at the same time (each
 * one that spawns the bin does) never see a half-written or emptied dist/ under a running CLI.
 */
export async function buildDist(): Promise<string[]> {
  const staging = mkdtempSync(path.join(ROOT, '.dist-'));
  try {
    const eager = await buildInto(staging);
    replaceDist(staging);
    return eager.map((file) => `dist/${path.relative(staging, path.join(ROOT, file))}`);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Another build may put its dist/ in place between our two renames: then it is moved aside again. */
function replaceDist(staging: string): void {
  const aside = `${DIST}.old-${process.pid}`;
  for (let attempt = 0; ; attempt++) {
    try {
      renameSync(DIST, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    try {
      renameSync(staging, DIST);
      break;
    } catch (error) {
      if (!['ENOTEMPTY', 'EEXIST'].includes((error as NodeJS.ErrnoException).code ?? '') || attempt === 5) throw error;
    } finally {
      rmSync(aside, { recursive: true, force: true });
    }
  }
}

async function buildInto(outdir: string): Promise<string[]> {
  const entry = path.relative(ROOT, path.join(outdir, 'cli/index.js'));
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { 'cli/index': 'src/cli/index.ts', 'cli/code-cache': 'src/cli/code-cache.ts' },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    external: EXTERNAL,
    chunkNames: 'chunks/[name]-[hash]',
    // The bundled CommonJS packages (googleapis, openai's deps, commander…) call require()
    // for Node's own modules; an ES module has none until it makes one.
    banner: { js: "import { createRequire as __svCreateRequire } from 'node:module';\nconst require = __svCreateRequire(import.meta.url);" },
    ...OUTPUT,
  });
  // A warning is a require() or import() esbuild could not follow (a dependency's new optional
  // module, say): at run time it would throw in the user's hands, so the build stops here.
  if (result.warnings.length > 0) throw new Error(`esbuild warned (above): keep that module external (EXTERNAL in scripts/build.ts) or make it resolvable`);
  const meta = result.metafile;
  const eager = staticClosure(meta, entry);
  const runChunk = Object.keys(meta.outputs).find((file) => meta.outputs[file]?.entryPoint === 'src/commands/run.ts');
  if (!runChunk) throw new Error('the build has no chunk for src/commands/run.ts: is `run` still imported lazily by src/cli/main.ts?');
  const run = new Set([...eager, ...staticClosure(meta, runChunk)]);
  const inputs = [...run].flatMap((file) => Object.keys(meta.outputs[file]?.inputs ?? {}));
  const wrong = inputs.filter((input) => NOT_IN_A_RUN.some((pattern) => pattern.test(input)));
  const externals = [...run].flatMap((file) => (meta.outputs[file]?.imports ?? []).filter((i) => i.external && i.kind === 'import-statement' && i.path === 'pg').map(() => 'pg'));
  if (wrong.length + externals.length > 0) throw new Error(`a run loads ${[...new Set([...wrong, ...externals])].slice(0, 5).join(', ')} before its first request: reach it through a lazy import() so that a run does not pay for it`);
  await buildScript(outdir);
  return eager;
}

/**
 * Packages only a lazy import() reaches, and which a `run` never reaches (NOT_IN_A_RUN): the
 * script, one file without chunks, leaves them in node_modules, so that a start does not read
 * and scan their megabytes (gpt-tokenizer's encoding alone is 3.6 MB) for the commands that
 * need them. undici is not one of them: a run loads it at its first request (src/llm/http.ts),
 * and from node_modules that is ~100 files to resolve and compile uncached (~40 ms).
 */
const LAZY_PACKAGES = ['prom-client', 'gpt-tokenizer', 'croner'];

/**
 * dist/script/cli.js: the ESM build's code as one classic script for vm.Script (Node 20 can
 * give cached data to a script, not to an ES module). esbuild cannot split CommonJS, but it
 * keeps the ESM build's laziness: a module reached by import() is wrapped in a function run
 * at that import(), so what a run evaluates is what the ESM build's check above allows. The
 * file is one function expression with CommonJS's parameters, evaluated by
 * src/cli/code-cache.ts; import.meta.url becomes the script's own URL (createRequire's base).
 */
async function buildScript(outdir: string): Promise<void> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { 'script/cli': 'src/cli/index.ts' },
    outdir,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20.19',
    external: [...EXTERNAL, ...LAZY_PACKAGES],
    // import() turned into require(): in a vm.Script, import() needs a loader Node 20 marks experimental (a warning on stderr).
    supported: { 'dynamic-import': false },
    define: { 'import.meta.url': '__svImportMetaUrl' },
    banner: { js: "(function (exports, require, module, __filename, __dirname) {\n'use strict';\nvar __svImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    footer: { js: '})' },
    ...OUTPUT,
  });
  if (result.warnings.length > 0) throw new Error('esbuild warned (above) on the script build: keep that module external (EXTERNAL in scripts/build.ts) or make it resolvable');
  const dynamic = Object.values(result.metafile.outputs).flatMap((output) => output.imports.filter((i) => i.kind === 'dynamic-import').map((i) => i.path));
  if (dynamic.length > 0) throw new Error(`dist/script/cli.js keeps import() of ${dynamic.join(', ')}: a vm.Script cannot run it without an experimental loader`);
}

/** The output files an entry loads through static imports alone (dynamic imports wait for their command). */
function staticClosure(meta: Metafile, entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const imported of meta.outputs[file]?.imports ?? []) {
      if (imported.kind === 'import-statement' && !imported.external) visit(imported.path);
    }
  };
  visit(entry);
  return [...seen];
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const eager = await buildDist();
  console.log(`dist/: built (${eager.length} files load at startup)`);
}
