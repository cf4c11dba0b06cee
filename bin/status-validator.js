#!/usr/bin/env node
import module from 'node:module';
import process from 'node:process';
import { URL } from 'node:url';

// Node 22.1 and later keep V8's compiled code of the bundle between runs (in the OS temp
// folder, as npm does for itself): compiling it is a good part of each start. Node 20 has
// no such cache for ES modules: there the same code runs as a script with a V8 code cache
// of our own (src/cli/code-cache.ts), unless source maps are on (--enable-source-maps:
// Node maps the stack traces of modules, not of a vm.Script's code).
if (module.enableCompileCache !== undefined || process.sourceMapsEnabled) {
  module.enableCompileCache?.();
  await import('../dist/cli/index.js');
} else {
  const { runScript } = await import('../dist/cli/code-cache.js');
  runScript(new URL('../dist/script/cli.js', import.meta.url));
}
