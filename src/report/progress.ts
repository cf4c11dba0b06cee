import { createRequire } from 'node:module';
import type cliProgressModule from 'cli-progress';
import type { Progress } from '../pipeline/index.js';
import { cost, duration, eta, figuresOf, progressLine, rate, type Figures } from './progress-figures.js';
import { n, plural } from './words.js';

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressViewOptions {
  clock?: () => number;
  /** Between two log lines of one target (not a terminal); phase changes are told at once. */
  logEveryMs?: number;
}

/** One target's progress as the view keeps it. */
interface Track {
  name: string | undefined;
  startedAt: number;
  askingSince: number | undefined;
  phase: Progress['phase'] | undefined;
  loggedAt: number;
  bar: cliProgressModule.SingleBar | undefined;
}

export const LOG_EVERY_MS = 10_000;

/**
 * Shows the progress of a run, fed by the run's progress events (it never waits on
 * anything: a write to the terminal or the log is all it does). On a terminal, a bar per
 * target (cli-progress) with rate, ETA and cost so far; otherwise timestamped lines with
 * the same figures, one per target every LOG_EVERY_MS and at each phase change.
 */
export class ProgressView {
  private readonly tty: boolean;
  private readonly clock: () => number;
  private readonly logEveryMs: number;
  private bars: cliProgressModule.MultiBar | undefined;
  private readonly tracks: Track[] = [];

  constructor(
    private readonly stream: ProgressStream,
    options: ProgressViewOptions = {},
  ) {
    this.tty = stream.isTTY === true;
    this.clock = options.clock ?? Date.now;
    this.logEveryMs = options.logEveryMs ?? LOG_EVERY_MS;
  }

  /** The listener of one target's run (`name` tells targets apart; a lone run has none). */
  listener(name?: string): (p: Progress) => void {
    const track: Track = { name, startedAt: this.clock(), askingSince: undefined, phase: undefined, loggedAt: 0, bar: undefined };
    this.tracks.push(track);
    return (p) => this.show(track, p);
  }

  /** Takes the bars off the terminal, leaving their last state (call before printing the summary). */
  stop(): void {
    this.bars?.stop();
    this.bars = undefined;
  }

  private show(track: Track, p: Progress): void {
    const now = this.clock();
    const changed = p.phase !== track.phase;
    track.phase = p.phase;
    if (p.phase === 'validating') track.askingSince ??= now;
    const f = figuresOf(p, track.startedAt, track.askingSince, now);
    if (this.tty) return this.draw(track, p, f);
    if (!changed && now - track.loggedAt < this.logEveryMs) return;
    track.loggedAt = now;
    this.stream.write(`${new Date(now).toISOString()} ${track.name === undefined ? '' : `[${track.name}] `}${progressLine(p, f)}\n`);
  }

  private draw(track: Track, p: Progress, f: Figures): void {
    const cliProgress = loadCliProgress();
    this.bars ??= new cliProgress.MultiBar(
      {
        // cli-progress writes only through stream.write (and readline's cursor moves, which do too).
        stream: this.stream as NodeJS.WritableStream,
        format: (options, params, payload: { name: string; text: string }) => `${payload.name}${cliProgress.Format.BarFormat(params.progress, options)} ${payload.text}`,
        barsize: 20,
        hideCursor: false,
        gracefulExit: false,
        clearOnComplete: false,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
    const width = Math.max(...this.tracks.map((t) => t.name?.length ?? 0));
    const payload = { name: track.name === undefined ? '' : `[${track.name}] `.padEnd(width + 3), text: barText(p, f) };
    // The bar's length is the share of questions settled; a tab with nothing to ask is full.
    const total = Math.max(1, f.total);
    const value = f.total === 0 ? (p.phase === 'reading' ? 0 : 1) : f.done;
    if (!track.bar) track.bar = this.bars.create(total, value, payload);
    else {
      track.bar.setTotal(total);
      track.bar.update(value, payload);
    }
  }
}

/** cli-progress, loaded on a terminal only: a run logging to a file or a pipe does without it (startup: issue 25). */
let loaded: typeof cliProgressModule | undefined;
function loadCliProgress(): typeof cliProgressModule {
  loaded ??= createRequire(import.meta.url)('cli-progress') as typeof cliProgressModule;
  return loaded;
}

/**
 * What follows the bar: the same figures as a log line, the most wanted first (a line
 * wider than the terminal is cut at its right edge).
 */
function barText(p: Progress, f: Figures): string {
  const tail = `${cost(f)} | elapsed ${duration(f.elapsedMs)}`;
  switch (p.phase) {
    case 'reading':
      return `reading the sheet… | ${tail}`;
    case 'validating':
      if (f.total === 0) return `nothing to ask the model | ${tail}`;
      return `${f.percent}% | ${n(f.done)}/${n(f.total)} done, ${plural(f.errors, 'error')} | ${eta(f)} | ${rate(f)} | ${tail}`;
    case 'writing':
      return `${f.percent}% | writing the last verdicts, ${plural(p.rowsWritten, 'row')} written | ${tail}`;
    case 'done':
      return `done: ${n(f.answered)} answered, ${plural(f.errors, 'error')}, ${plural(p.rowsWritten, 'row')} written | ${tail}`;
  }
}
