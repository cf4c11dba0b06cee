/** Issue 13: the serve.* config keys, and the POST /runs body, checked with a message that names the field. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';
import { HourlyLimit } from '../../src/server/limits.js';
import { parseRunAsk } from '../../src/server/request.js';

const minimal = (serve: unknown) => ({
  sheets: { spreadsheet_id: '1AbC-dEf_123', sheet: 'Statuses' },
  columns: { status: 'Status', comment: 'Comment' },
  rules: { allowed_statuses: ['Planned', 'Done'], text: 'Say what is next and by when.' },
  llm: { providers: [{ name: 'primary', model: 'gpt-5-mini' }] },
  ...(serve === undefined ? {} : { serve }),
});

function problems(serve: unknown): Array<{ path: string; message: string }> {
  try {
    parseConfig(stringify(minimal(serve)), '/tmp/c.yaml', {});
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => ({ path: p.path, message: p.message }));
  }
  return [];
}

describe('serve config', () => {
  it('defaults to no people, 200 rows, $1, 6 runs an hour and Google\'s certificates', () => {
    const config = parseConfig(stringify(minimal(undefined)), '/tmp/c.yaml', {});
    expect(config.serve).toEqual({ allow: [], admins: [], max_rows: 200, runs_per_hour: 6, google_certs_url: 'https://www.googleapis.com/oauth2/v1/certs' });
  });

  it('keeps emails and @domain entries, in lower case', () => {
    const config = parseConfig(stringify(minimal({ allow: ['Alice@Example.com', '@team.example.org'], google_client_id: 'x.apps.googleusercontent.com' })), '/tmp/c.yaml', {});
    expect(config.serve.allow).toEqual(['alice@example.com', '@team.example.org']);
  });

  it('names each bad key: an entry that is no email, numbers that are not positive', () => {
    const found = problems({ allow: ['alice', '@'], admins: ['bob@'], max_rows: 0, max_cost_usd: -1, runs_per_hour: 1.5, google_client_id: 'x' });
    expect(found.map((p) => p.path).sort()).toEqual(['serve.admins[0]', 'serve.allow[0]', 'serve.allow[1]', 'serve.max_cost_usd', 'serve.max_rows', 'serve.runs_per_hour']);
    expect(found.find((p) => p.path === 'serve.allow[0]')?.message).toContain('"@example.com"');
  });

  it('requires a client id once people are allowed', () => {
    const found = problems({ admins: ['lead@example.com'] });
    expect(found.map((p) => p.path)).toEqual(['serve.google_client_id']);
    expect(found[0]?.message).toContain('required when serve.allow or serve.admins is set');
  });

  it('refuses unknown serve keys', () => {
    expect(problems({ alow: [] }).map((p) => p.path)).toEqual(['serve.alow']);
  });
});

describe('the POST /runs body', () => {
  it('takes rows and force, both optional; drops duplicate ids', () => {
    expect(parseRunAsk({})).toEqual({ ok: true, ask: { rows: undefined, force: false } });
    expect(parseRunAsk({ rows: ['P-1', ' P-2 ', 'P-1'], force: true })).toEqual({ ok: true, ask: { rows: ['P-1', 'P-2'], force: true } });
  });

  it.each([
    [{ row: ['P-1'] }, 'unknown field "row"'],
    [{ force: 'yes' }, 'field "force"'],
    [{ rows: 'P-1' }, 'field "rows"'],
    [{ rows: [] }, 'field "rows"'],
    [{ rows: ['P-1', 3] }, 'item 2'],
    [{ rows: [''] }, 'item 1'],
  ])('refuses %j naming the field', (body, message) => {
    const parsed = parseRunAsk(body);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.error).toContain(message);
  });

  it('never throws on any JSON object, and accepts exactly the well-formed ones', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.oneof(fc.constantFrom('rows', 'force', 'target', 'spreadsheet_id', 'sheet'), fc.string()), fc.jsonValue()), (body) => {
        const parsed = parseRunAsk(body);
        const keysOk = Object.keys(body).every((k) => ['rows', 'force', 'target', 'spreadsheet_id', 'sheet'].includes(k));
        const name = (v: unknown) => v === undefined || (typeof v === 'string' && v.trim() !== '' && v.length <= 200);
        const namesOk = name(body.target) && name(body.spreadsheet_id) && name(body.sheet) && (body.sheet === undefined || body.spreadsheet_id !== undefined);
        const forceOk = body.force === undefined || typeof body.force === 'boolean';
        const rowsOk =
          body.rows === undefined || (Array.isArray(body.rows) && body.rows.length > 0 && body.rows.every((id) => typeof id === 'string' && id.trim() !== '' && id.length <= 200));
        expect(parsed.ok).toBe(keysOk && forceOk && rowsOk && namesOk);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('the hourly limit', () => {
  it('lets a person start runs_per_hour runs in any hour, then says when the oldest leaves the window', () => {
    let now = 0;
    const limit = new HourlyLimit(2, () => now);
    const kept = (r: ReturnType<typeof limit.reserve>) => ('keep' in r ? (r.keep(), 'kept') : r);
    expect(kept(limit.reserve('a'))).toBe('kept');
    now = 600_000;
    expect(kept(limit.reserve('a'))).toBe('kept');
    expect(limit.reserve('a')).toEqual({ retryAfter: 3000, pending: false });
    expect(limit.reserve('b')).toHaveProperty('release');
    now = 3_600_001;
    expect(limit.reserve('a')).toHaveProperty('release');
  });

  it('takes the slot in the same step as the check: back-to-back reservations never pass the limit', () => {
    const limit = new HourlyLimit(1, () => 0);
    const taken = [limit.reserve('a'), limit.reserve('a'), limit.reserve('a')];
    expect(taken.filter((r) => 'release' in r)).toHaveLength(1);
  });

  it('gives a released slot back (a request that did not count), once however often it is released', () => {
    const limit = new HourlyLimit(1, () => 0);
    const first = limit.reserve('a');
    if (!('release' in first)) throw new Error('the first reservation was refused');
    first.release();
    first.release();
    const second = limit.reserve('a');
    expect(second).toHaveProperty('release');
    expect(limit.reserve('a')).toHaveProperty('retryAfter');
  });

  it('tells a person whose only slot is pending (a request being answered) to retry in seconds, not the hour', () => {
    const limit = new HourlyLimit(1, () => 0, 30);
    const first = limit.reserve('a');
    if (!('keep' in first)) throw new Error('the first reservation was refused');
    expect(limit.reserve('a')).toEqual({ retryAfter: 30, pending: true });
    first.keep();
    // Kept: the slot is the hour's; a release after the keep gives nothing back.
    first.release();
    expect(limit.reserve('a')).toEqual({ retryAfter: 3600, pending: false });
  });
});
