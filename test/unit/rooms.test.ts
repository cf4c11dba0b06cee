import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * DESIGN.md, Layout: the folders under src/ are rooms in layers (commands -> pipeline ->
 * llm / sheets / store -> errors); a lower room never imports a higher one, so no two rooms
 * import each other. Type-only imports count: they tie the rooms' concepts together as much.
 */
const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

interface Import {
  from: string;
  to: string;
  /** "src/pipeline/tally.ts:1: import type { … } from '../batch/pending.js';" */
  line: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** The room (top-level folder under src/) a file lies in; undefined for src/'s own files (errors.ts…), which are no room. */
function roomOf(file: string): string | undefined {
  const parts = path.relative(SRC, file).split(path.sep);
  return parts.length > 1 && parts[0] !== '..' ? parts[0] : undefined;
}

/** Every relative import of a file that lands in another room: import, import type, export … from, import(). */
function crossRoomImports(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const from = roomOf(file);
  if (from === undefined) return [];
  const lines = text.split('\n');
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.filter((imported) => imported.fileName.startsWith('.'))
    .flatMap((imported) => {
      const to = roomOf(path.resolve(path.dirname(file), imported.fileName));
      if (to === undefined || to === from) return [];
      const lineNo = text.slice(0, imported.pos).split('\n').length;
      return [{ from, to, line: `${path.relative(path.join(SRC, '..'), file)}:${lineNo}: ${(lines[lineNo - 1] ?? '').trim()}` }];
    });
}

/** Each pair of rooms that import each other, with one import line of each direction. */
function mutualRooms(imports: readonly Import[]): string[] {
  const first = new Map<string, Import>();
  for (const imported of imports) {
    const edge = `${imported.from} -> ${imported.to}`;
    if (!first.has(edge)) first.set(edge, imported);
  }
  const pairs: string[] = [];
  for (const [, there] of first) {
    const back = first.get(`${there.to} -> ${there.from}`);
    if (back && there.from < there.to) pairs.push(`${there.from} and ${there.to} import each other:\n  ${there.line}\n  ${back.line}`);
  }
  return pairs;
}

describe('the rooms under src/', () => {
  it('finds a pair of rooms importing each other, naming an import line of each direction', () => {
    const pairs = mutualRooms([
      { from: 'batch', to: 'pipeline', line: 'src/batch/api.ts:5: a' },
      { from: 'pipeline', to: 'llm', line: 'src/pipeline/ask.ts:1: b' },
      { from: 'pipeline', to: 'batch', line: 'src/pipeline/tally.ts:1: c' },
      { from: 'pipeline', to: 'batch', line: 'src/pipeline/events.ts:1: d' },
    ]);
    expect(pairs).toEqual(['batch and pipeline import each other:\n  src/batch/api.ts:5: a\n  src/pipeline/tally.ts:1: c']);
  });

  it('reads every kind of import a file can make of another room', () => {
    const found = ts.preProcessFile("import type { A } from '../a/x.js';\nexport { B } from '../b/y.js';\nconst c = () => import('../c/z.js');\nimport '../d/w.js';\n", true, true).importedFiles.map((f) => f.fileName);
    expect(found).toEqual(['../a/x.js', '../b/y.js', '../c/z.js', '../d/w.js']);
  });

  it('never import each other: dependencies point one way', () => {
    const files = sourceFiles(SRC);
    // A wrong SRC would find nothing and pass: make sure the walk saw the rooms.
    expect(files.some((file) => roomOf(file) === 'pipeline')).toBe(true);
    expect(mutualRooms(files.flatMap(crossRoomImports))).toEqual([]);
  });
});
