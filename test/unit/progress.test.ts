/** Issue 19, item 4: progress with rate, ETA, elapsed time and cost so far; floors for percentages. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Progress } from '../../src/pipeline/index.js';
import { duration, figuresOf, progressLine, ProgressView } from '../../src/report/index.js';

const progress = (p: Partial<Progress> = {}): Progress => ({ phase: 'validating', questions: 100, answered: 0, errors: 0, retries: 0, rowsWritten: 0, costUsd: 0, ...p });

describe('figuresOf', () => {
  it('floors percentages: 57/100 is 57 %, 999/1000 is 99 %, only all done is 100 %', () => {
    expect(figuresOf(progress({ answered: 57 }), 0, 0, 1000).percent).toBe(57);
    expect(figuresOf(progress({ questions: 1000, answered: 999 }), 0, 0, 1000).percent).toBe(99);
    expect(figuresOf(progress({ answered: 100 }), 0, 0, 1000).percent).toBe(100);
    expect(figuresOf(progress({ questions: 0 }), 0, 0, 1000).percent).toBe(100);
  });

  it('keeps errors apart from answers', () => {
    const f = figuresOf(progress({ answered: 98, errors: 98 }), 0, 0, 60_000);
    expect(f).toMatchObject({ done: 98, answered: 0, errors: 98 });
    expect(progressLine(progress({ answered: 98, errors: 98 }), f)).toContain('98/100 questions (98%): 0 answered, 98 errors');
  });

  it('measures the rate over the time spent asking, and the ETA from it', () => {
    // Read for 30 s, then 30 questions in 60 s: 30/min; 70 to go: 2 min 20 s.
    const f = figuresOf(progress({ answered: 30, costUsd: 0.0123 }), 0, 30_000, 90_000);
    expect(f.perMinute).toBeCloseTo(30);
    expect(f.etaMs).toBeCloseTo(140_000);
    expect(f.elapsedMs).toBe(90_000);
    expect(progressLine(progress({ answered: 30, costUsd: 0.0123, retries: 1, rowsWritten: 20 }), f)).toBe(
      'validating: 30/100 questions (30%): 30 answered, 0 errors | 30/min | ETA 2 min 20 s | 1 retry | elapsed 1 min 30 s | $0.0123 so far | 20 rows written',
    );
    // Nothing measured yet: no rate, no ETA, rather than a wild guess.
    const early = figuresOf(progress({ answered: 0 }), 0, 0, 5000);
    expect([early.perMinute, early.etaMs]).toEqual([null, null]);
    expect(progressLine(progress(), early)).toContain('–/min | ETA unknown');
    const unpriced = progress({ costUsd: null });
    expect(progressLine(unpriced, figuresOf(unpriced, 0, 0, 5000))).toContain('cost so far unknown');
  });

  it('never shows 100 % before the end, never a negative or non-finite ETA, whatever the counters say', () => {
    fc.assert(
      fc.property(fc.nat({ max: 1e6 }), fc.nat({ max: 1e6 }), fc.nat({ max: 1e6 }), fc.nat({ max: 1e7 }), fc.nat({ max: 1e7 }), (questions, answered, errors, asking, reading) => {
        const p = progress({ questions, answered, errors });
        const f = figuresOf(p, 0, reading, reading + asking);
        expect(f.percent).toBeGreaterThanOrEqual(0);
        expect(f.percent).toBeLessThanOrEqual(100);
        if (f.done < f.total) expect(f.percent).toBeLessThan(100);
        expect(f.percent).toBe(f.total === 0 ? 100 : Math.floor((f.done / f.total) * 100 + 1e-9));
        if (f.etaMs !== null) expect(Number.isFinite(f.etaMs) && f.etaMs >= 0).toBe(true);
        expect(f.answered + f.errors).toBe(f.done);
        expect(progressLine(p, f)).not.toMatch(/NaN|Infinity|undefined/);
      }),
    );
  });
});

describe('duration', () => {
  it('reads as a person says it, rounded up so an ETA is never 0 s before the end', () => {
    expect([duration(0), duration(200), duration(59_000), duration(60_000), duration(245_000), duration(7_380_000)]).toEqual(['0 s', '1 s', '59 s', '1 min 00 s', '4 min 05 s', '2 h 03 min']);
    fc.assert(
      fc.property(fc.double({ min: -1e12, max: 1e12, noNaN: true }), (ms) => {
        expect(duration(ms)).toMatch(/^\d+ (s|min \d\d s|h \d\d min)$/);
      }),
    );
  });
});

/** A stream that keeps what is written to it. */
function stream(isTTY: boolean) {
  const out = { text: '', isTTY, columns: 200, write: (s: string) => ((out.text += s), true) };
  return out;
}

describe('ProgressView', () => {
  it('logs timestamped lines (not a terminal): each phase change at once, then at most one line every interval, per target', () => {
    const s = stream(false);
    let now = Date.parse('2026-12-04T10:00:00Z');
    const view = new ProgressView(s, { clock: () => now, logEveryMs: 10_000 });
    const a = view.listener('a');
    const b = view.listener('b');
    a(progress({ phase: 'reading', questions: 0 }));
    a(progress({ questions: 10 }));
    b(progress({ questions: 4 }));
    now += 3000;
    a(progress({ questions: 10, answered: 3 }));
    now += 9000;
    a(progress({ questions: 10, answered: 6, errors: 1, costUsd: 0.002 }));
    b(progress({ questions: 4, answered: 4, phase: 'writing', rowsWritten: 4 }));
    view.stop();
    expect(s.text.split('\n').filter(Boolean)).toEqual([
      '2026-12-04T10:00:00.000Z [a] reading the sheet…',
      '2026-12-04T10:00:00.000Z [a] validating: 0/10 questions (0%): 0 answered, 0 errors | –/min | ETA unknown | 0 retries | elapsed 0 s | $0.00000 so far | 0 rows written',
      '2026-12-04T10:00:00.000Z [b] validating: 0/4 questions (0%): 0 answered, 0 errors | –/min | ETA unknown | 0 retries | elapsed 0 s | $0.00000 so far | 0 rows written',
      '2026-12-04T10:00:12.000Z [a] validating: 6/10 questions (60%): 5 answered, 1 error | 30/min | ETA 8 s | 0 retries | elapsed 12 s | $0.00200 so far | 0 rows written',
      '2026-12-04T10:00:12.000Z [b] writing the last verdicts: 4 answered, 0 errors of 4 questions | 0 retries | elapsed 12 s | $0.00000 so far | 4 rows written',
    ]);
  });

  it('draws a bar per target on a terminal (a stream with isTTY), with the same figures, and takes them down on stop', () => {
    const s = stream(true);
    let now = 0;
    const view = new ProgressView(s, { clock: () => now });
    const a = view.listener('a');
    const b = view.listener('b');
    a(progress({ questions: 100, answered: 0 }));
    b(progress({ questions: 10, answered: 0 }));
    now = 60_000;
    a(progress({ questions: 100, answered: 57, errors: 2, costUsd: 0.05 }));
    b(progress({ questions: 10, answered: 10, phase: 'done', rowsWritten: 10 }));
    view.stop();
    // The last frame: both bars, names aligned, each with its figures; cursor moves between them are the library's.
    const frame = s.text.slice(s.text.lastIndexOf('[a] '));
    expect(frame).toMatch(/^\[a\] [█░]{20} 57% \| 57\/100 done, 2 errors \| ETA 46 s \| 57\/min \| \$0\.0500 so far \| elapsed 1 min 00 s/);
    expect(frame).toMatch(/\[b\] █{20} done: 10 answered, 0 errors, 10 rows written \| \$0\.00000 so far \| elapsed 1 min 00 s/);
    // No timestamped log lines on a terminal.
    expect(s.text).not.toMatch(/\d{4}-\d\d-\d\dT/);
  });

  it('writes nothing when no run reported (a target that never started)', () => {
    const s = stream(true);
    const view = new ProgressView(s);
    view.listener('a');
    view.stop();
    expect(s.text).toBe('');
  });
});
