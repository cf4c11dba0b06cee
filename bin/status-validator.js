#!/usr/bin/env node
import module from 'node:module';
import v8 from 'node:v8';

// A run's requests each live a model's latency (~100 ms), while the young generation V8
// starts with fills in ~40 ms at 50 workers: every request in flight survived two scavenges
// and was promoted, and the old generation was mark-compacted every ~0.8 s (issue 25, B1: 89
// scavenges and 6 mark-compacts in a 2,000-row run; 22 and 2 with this). Growing the young
// generation to its maximum (16 MiB semi-spaces on 64-bit Node 20) at its
// first growth lets them die young. Read by V8 at each growth, so it applies when set here.
// Costs up to ~28 MiB of peak RSS in a mid-sized run (30,000 rows: 144 -> 172 MiB).
v8.setFlagsFromString('--semi-space-growth-factor=16');

// Node 22.1 and later keep V8's compiled code of the bundle between runs (in the OS temp
// folder, as npm does for itself): compiling it is a good part of each start. Node 20 has
// no such cache, and goes on without it.
module.enableCompileCache?.();
await import('../dist/cli/index.js');
