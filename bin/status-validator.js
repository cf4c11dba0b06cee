#!/usr/bin/env node
import module from 'node:module';

// Node 22.1 and later keep V8's compiled code of the bundle between runs (in the OS temp
// folder, as npm does for itself): compiling it is a good part of each start. Node 20 has
// no such cache, and goes on without it.
module.enableCompileCache?.();
await import('../dist/cli/index.js');
