import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadConfig, loadSecrets, parseConfig, type Config } from '../../src/config/index.js';
import type { ConfigError } from '../../src/errors.js';
import { configError } from '../support/config-file.js';

let dir = '';
let privateKeyPem = '';

beforeAll(() => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
});

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sv-config-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The smallest config the schema accepts: everything else takes its default. */
function minimal() {
  return {
    sheets: { spreadsheet_id: '1AbC-dEf_123', sheet: 'Statuses' },
    columns: { status: 'Status', comment: 'Comment' },
    rules: { allowed_statuses: ['Planned', 'Done'], text: 'Say what is next and by when.' },
    llm: { providers: [{ name: 'primary', model: 'gpt-5-mini' }] as Array<Record<string, unknown>> },
  };
}

function writeConfig(data: unknown, name = 'config.yaml'): string {
  const file = path.join(dir, name);
  writeFileSync(file, typeof data === 'string' ? data : stringify(data));
  return file;
}

function problemAt(error: ConfigError, at: string): string {
  const found = error.problems.filter((p) => p.path === at);
  expect(found.map((p) => p.path), `problems: ${JSON.stringify(error.problems)}`).toEqual([at]);
  return found[0]?.message ?? '';
}

describe('loadConfig', () => {
  it('gives a minimal config the documented defaults', () => {
    const config = loadConfig(writeConfig(minimal()), {});

    expect(config.llm.max_workers).toBe(5);
    expect(config.llm.max_retries).toBe(5);
    expect(config.llm.prompt_cache_key).toBe('auto');
    expect(config.llm.providers[0]).toMatchObject({
      base_url: 'https://api.openai.com/v1',
      api_key_env: 'OPENAI_API_KEY',
      structured_outputs: 'auto',
    });
    expect(config.output.write_batch_size).toBe(10);
    expect(config.output.columns).toEqual({
      verdict: 'Validation',
      issues: 'Issues',
      suggestion: 'Suggested rewrite',
      checked_at: 'Checked at',
      model: 'Model',
    });
    expect(config.sheets.header_row).toBe(1);
    expect(config.sheets.read_quota_per_minute).toBe(60);
    expect(config.sheets.write_quota_per_minute).toBe(60);
    expect(config.cache.path).toBe(path.join(dir, 'status-validator.sqlite'));
  });

  it("resolves relative paths against the config file's folder, not the working directory", () => {
    const nested = path.join(dir, 'conf', 'team');
    mkdirSync(nested, { recursive: true });
    const data = { ...minimal(), cache: { path: './data/verdicts.sqlite' } };
    const file = path.join(nested, 'config.yaml');
    writeFileSync(file, stringify({ ...data, sheets: { ...data.sheets, credentials_file: '../key.json' } }));

    const config = loadConfig(file, {});

    expect(process.cwd()).not.toBe(nested);
    expect(config.cache.path).toBe(path.join(nested, 'data', 'verdicts.sqlite'));
    expect(config.sheets.credentials_file).toBe(path.join(dir, 'conf', 'key.json'));
    expect(config.source.dir).toBe(nested);
  });

  it('keeps an absolute cache path as it is', () => {
    const absolute = path.join(os.tmpdir(), 'elsewhere', 'cache.sqlite');
    const config = loadConfig(writeConfig({ ...minimal(), cache: { path: absolute } }), {});
    expect(config.cache.path).toBe(absolute);
  });

  it('accepts a spreadsheet id of quoted digits as a string', () => {
    const file = writeConfig(stringify(minimal()).replace("spreadsheet_id: 1AbC-dEf_123", 'spreadsheet_id: "1234567890"'));
    const config = loadConfig(file, {});
    expect(config.sheets.spreadsheet_id).toBe('1234567890');
    expect(typeof config.sheets.spreadsheet_id).toBe('string');
  });

  it('rejects an unquoted numeric spreadsheet id and says to quote it', () => {
    const file = writeConfig(stringify(minimal()).replace('spreadsheet_id: 1AbC-dEf_123', 'spreadsheet_id: 1234567890'));
    const message = problemAt(configError(() => loadConfig(file, {})), 'sheets.spreadsheet_id');
    expect(message).toMatch(/quotes/);
    expect(message).toContain('1234567890');
  });

  it('rejects a whole sheet URL given as the spreadsheet id', () => {
    const data = minimal();
    data.sheets.spreadsheet_id = 'https://docs.google.com/spreadsheets/d/1AbC/edit';
    const message = problemAt(configError(() => loadConfig(writeConfig(data), {})), 'sheets.spreadsheet_id');
    expect(message).toContain('not the whole URL');
  });

  it('names an unknown key at any depth by its path and suggests the near key', () => {
    const data = minimal();
    Object.assign(data, { cahce: { path: 'x.sqlite' } });
    Object.assign(data.sheets, { sheeet: 'Tab' });
    Object.assign(data.llm, { max_worker: 3 });
    Object.assign(data.llm.providers[0] ?? {}, { modell: 'gpt-4o' });
    Object.assign(data, { output: { columns: { verdikt: 'Verdict' } } });

    const error = configError(() => loadConfig(writeConfig(data), {}));

    expect(problemAt(error, 'cahce')).toContain('did you mean "cache"?');
    expect(problemAt(error, 'sheets.sheeet')).toContain('did you mean "sheet"?');
    expect(problemAt(error, 'llm.max_worker')).toContain('did you mean "max_workers"?');
    expect(problemAt(error, 'llm.providers[0].modell')).toContain('did you mean "model"?');
    expect(problemAt(error, 'output.columns.verdikt')).toContain('did you mean "verdict"?');
    expect(error.problems).toHaveLength(5);
  });

  it('lists the allowed keys and suggests nothing when an unknown key is near none of them', () => {
    const data = minimal();
    Object.assign(data.columns, { completely_unrelated_thing: 'X' });
    const message = problemAt(configError(() => loadConfig(writeConfig(data), {})), 'columns.completely_unrelated_thing');
    expect(message).not.toContain('did you mean');
    expect(message).toContain('allowed here: id, status, comment, completion_date');
  });

  it('lists every problem at once', () => {
    const data = minimal();
    Object.assign(data.sheets, { header_row: 'one' });
    Object.assign(data.llm, { max_workers: 0, max_worker: 2 });
    Object.assign(data.rules, { allowed_statuses: 'Done' });
    Object.assign(data.columns, { status: '' });

    const error = configError(() => loadConfig(writeConfig(data), {}));

    expect(error.problems.map((p) => p.path).sort()).toEqual(
      ['columns.status', 'llm.max_worker', 'llm.max_workers', 'rules.allowed_statuses', 'sheets.header_row'].sort(),
    );
    expect(error.message).toContain('5 problems');
    for (const problem of error.problems) expect(error.message).toContain(`${problem.path}: `);
  });

  it('names the value it received for a wrong type', () => {
    const data = minimal();
    Object.assign(data.sheets, { header_row: 'one' });
    Object.assign(data.rules, { allowed_statuses: 'Done' });
    Object.assign(data.llm, { max_retries: 2.5 });

    const error = configError(() => loadConfig(writeConfig(data), {}));

    expect(problemAt(error, 'sheets.header_row')).toMatch(/whole number from 1 to 1000.*got "one"/);
    expect(problemAt(error, 'rules.allowed_statuses')).toMatch(/list of statuses.*got "Done"/);
    expect(problemAt(error, 'llm.max_retries')).toMatch(/whole number from 0 to 20.*got 2\.5/);
  });

  it('rejects max_workers 0 and names the allowed range', () => {
    const data = minimal();
    Object.assign(data.llm, { max_workers: 0 });
    const message = problemAt(configError(() => loadConfig(writeConfig(data), {})), 'llm.max_workers');
    expect(message).toContain('from 1 to 500');
    expect(message).toContain('got 0');
  });

  it('rejects an empty providers list', () => {
    const data = minimal();
    data.llm.providers = [];
    const message = problemAt(configError(() => loadConfig(writeConfig(data), {})), 'llm.providers');
    expect(message).toContain('at least one provider');
  });

  it('reports a missing required section as missing', () => {
    const { sheets: _sheets, ...rest } = minimal();
    const message = problemAt(configError(() => loadConfig(writeConfig(rest), {})), 'sheets');
    expect(message).toMatch(/^missing/);
  });

  it('rejects two columns with one header, ignoring case and surrounding spaces', () => {
    const data = { ...minimal(), output: { columns: { issues: '  COMMENT ' } } };
    const message = problemAt(configError(() => loadConfig(writeConfig(data), {})), 'output.columns.issues');
    expect(message).toContain('columns.comment');
  });

  it('rejects two input columns with the same header', () => {
    const data = minimal();
    Object.assign(data.columns, { id: 'status' });
    const error = configError(() => loadConfig(writeConfig(data), {}));
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]?.message).toMatch(/already used by columns\.(id|status)/);
  });

  it('rejects two headers that differ only in inner spaces, since the sheet matches them as one column', () => {
    const data = minimal();
    Object.assign(data.columns, { completion_date: 'Due date' });
    const withOutput = { ...data, output: { columns: { checked_at: 'Due  date' } } };
    const message = problemAt(configError(() => loadConfig(writeConfig(withOutput), {})), 'output.columns.checked_at');
    expect(message).toContain('columns.completion_date');
  });

  it('rejects two providers with the same name', () => {
    const data = minimal();
    data.llm.providers.push({ name: 'primary', model: 'gpt-4o-mini' });
    const message = problemAt(configError(() => loadConfig(writeConfig(data), {})), 'llm.providers[1].name');
    expect(message).toContain('"primary"');
  });

  it('reports a duplicate provider name together with an unknown key, not one after the other', () => {
    const data = minimal();
    data.llm.providers.push({ name: 'primary', model: 'gpt-4o-mini' });
    Object.assign(data.llm, { max_worker: 3 });
    const error = configError(() => loadConfig(writeConfig(data), {}));
    expect(error.problems.map((p) => p.path).sort()).toEqual(['llm.max_worker', 'llm.providers[1].name']);
  });

  it('never repeats an API key pasted into api_key_env in the error', () => {
    const apiKey = 'AIzaFAKE-not-a-real-key_0123456789abc';
    const data = minimal();
    Object.assign(data.llm.providers[0] ?? {}, { api_key_env: '${GEMINI_KEY}' });
    const error = configError(() => loadConfig(writeConfig(data), { GEMINI_KEY: apiKey }));
    expect(problemAt(error, 'llm.providers[0].api_key_env')).toContain('NAME of an environment variable');
    expect(error.message).not.toContain(apiKey);
    expect(JSON.stringify(error.problems)).not.toContain(apiKey);
  });

  it('rejects text that is not valid YAML', () => {
    const file = writeConfig('sheets:\n  spreadsheet_id: [unclosed\n  sheet: Tab\n');
    const error = configError(() => loadConfig(file, {}));
    expect(error.problems.length).toBeGreaterThanOrEqual(1);
    expect(error.problems[0]?.message).toMatch(/^not valid YAML: /);
    expect(error.message).toContain(file);
  });

  it('shows a YAML syntax error as the other config errors: the line with a caret under the spot, and a Fix line', () => {
    const file = writeConfig('sheets:\n  spreadsheet_id: x\n  sheet: [Tab\ncolumns: {}\n');
    const error = configError(() => loadConfig(file, {}));
    const message = problemAt(error, '');
    expect(message).toMatch(/^not valid YAML: .*\(line 4, column 1\)\n/);
    expect(message).toContain('      4 | columns: {}\n        | ^');
    expect(message).not.toMatch(/at line \d+, column \d+:/);
    expect(error.hint).toMatch(/close any \[ or \{.*config\.example\.yaml/);

    const tabbed = configError(() => loadConfig(writeConfig('sheets:\n\tsheet: Tab\n', 'tabbed.yaml'), {}));
    expect(problemAt(tabbed, '')).toContain('      2 | →sheet: Tab\n        | ^');
    expect(tabbed.hint).toMatch(/^Indent with spaces, not tabs/);
  });

  it('says in its own words that a section is missing or empty, never zod\'s "expected object, received undefined"', () => {
    const { llm: _dropped, ...noLlm } = minimal();
    const error = configError(() => loadConfig(writeConfig({ ...noLlm, sheets: null, review: null, cache: [], pricing: 3 }), {}));
    expect(problemAt(error, 'llm')).toBe('missing: add a section of keys (key: value lines, indented under it)');
    expect(problemAt(error, 'sheets')).toMatch(/^it is empty: write a section of keys .* or remove the key/);
    expect(problemAt(error, 'review')).toMatch(/^it is empty: /);
    expect(problemAt(error, 'cache')).toMatch(/^must be a section of keys .*, not a list \(got \[\]\)$/);
    expect(problemAt(error, 'pricing')).toMatch(/not a whole number \(got 3\)$/);
    expect(error.message).not.toMatch(/received|Invalid input/);
  });

  it('rejects an alias to no anchor as a config problem, not an internal error', () => {
    const error = configError(() => loadConfig(writeConfig('sheets: *nowhere\n'), {}));
    expect(problemAt(error, '')).toMatch(/^not valid YAML: .*anchor/);
    expect(error.hint).toMatch(/&anchor/);
  });

  it('rejects a key written twice in the YAML', () => {
    const file = writeConfig(`${stringify(minimal())}llm:\n  max_workers: 2\n`);
    const error = configError(() => loadConfig(file, {}));
    expect(error.problems[0]?.message).toMatch(/not valid YAML: .*unique/);
  });

  it('rejects a missing file and says how to point at one', () => {
    const file = path.join(dir, 'nope.yaml');
    const error = configError(() => loadConfig(file, {}));
    expect(error.problems).toEqual([{ path: '', message: 'the file does not exist' }]);
    expect(error.message).toContain(file);
    expect(error.hint).toContain('--config');
  });

  it('lists every missing section of an empty file', () => {
    const error = configError(() => loadConfig(writeConfig(''), {}));
    expect(error.problems.map((p) => p.path).sort()).toEqual(['columns', 'llm', 'rules', 'sheets']);
  });
});

describe('environment interpolation', () => {
  it('replaces ${VAR} with the variable from the environment', () => {
    const data = minimal();
    data.sheets.spreadsheet_id = '${SHEET_ID}';
    data.sheets.sheet = 'Q${QUARTER} statuses';
    const config = loadConfig(writeConfig(data), { SHEET_ID: 'abc_DEF-123', QUARTER: '3' });
    expect(config.sheets.spreadsheet_id).toBe('abc_DEF-123');
    expect(config.sheets.sheet).toBe('Q3 statuses');
  });

  it('uses the default of ${VAR:-default} when the variable is unset or empty', () => {
    const data = minimal();
    data.sheets.sheet = '${TAB:-Statuses 2025}';
    expect(loadConfig(writeConfig(data), {}).sheets.sheet).toBe('Statuses 2025');
    expect(loadConfig(writeConfig(data), { TAB: '' }).sheets.sheet).toBe('Statuses 2025');
  });

  it('prefers the variable over the default when it is set', () => {
    const data = minimal();
    data.sheets.sheet = '${TAB:-Statuses 2025}';
    expect(loadConfig(writeConfig(data), { TAB: 'Archive' }).sheets.sheet).toBe('Archive');
  });

  it('interpolates inside lists', () => {
    const data = minimal();
    data.rules.allowed_statuses = ['Planned', '${EXTRA_STATUS}'];
    expect(loadConfig(writeConfig(data), { EXTRA_STATUS: 'On hold' }).rules.allowed_statuses).toEqual(['Planned', 'On hold']);
  });

  it('reads $$ as a literal dollar sign', () => {
    const data = minimal();
    data.rules.text = 'Budgets are in $$ and never ${NOT_A_VAR:-x}.';
    expect(loadConfig(writeConfig(data), {}).rules.text).toBe('Budgets are in $ and never x.');
  });

  it('reports a missing variable naming the key and the variable', () => {
    const data = minimal();
    data.sheets.sheet = '${SHEET_TAB}';
    const error = configError(() => loadConfig(writeConfig(data), {}));
    const messages = error.problems.filter((p) => p.path === 'sheets.sheet').map((p) => p.message);
    expect(messages.some((m) => m.includes('environment variable SHEET_TAB is not set') && m.includes('${SHEET_TAB:-value}'))).toBe(true);
  });

  it('reports every missing variable, each at its own key', () => {
    const data = minimal();
    data.sheets.spreadsheet_id = '${SHEET_ID}';
    data.llm.providers.push({ name: 'backup', model: '${BACKUP_MODEL}' });
    const error = configError(() => loadConfig(writeConfig(data), {}));
    const about = (variable: string) => error.problems.filter((p) => p.message.includes(`variable ${variable} is not set`)).map((p) => p.path);
    expect(about('SHEET_ID')).toEqual(['sheets.spreadsheet_id']);
    expect(about('BACKUP_MODEL')).toEqual(['llm.providers[1].model']);
  });

  it('does not read the real process environment when an environment is given', () => {
    const data = minimal();
    data.sheets.sheet = '${PATH:-no path}';
    expect(parseConfig(stringify(data), path.join(dir, 'c.yaml'), {}).sheets.sheet).toBe('no path');
  });
});

describe('loadSecrets', () => {
  const apiKey = 'sk-test-0123456789abcdefSECRET';

  function keyFile(contents: unknown, mode = 0o600, name = 'key.json'): string {
    const file = path.join(dir, name);
    writeFileSync(file, typeof contents === 'string' ? contents : JSON.stringify(contents));
    chmodSync(file, mode);
    return file;
  }

  function serviceAccount(): Record<string, string> {
    return {
      type: 'service_account',
      project_id: 'demo-project',
      private_key_id: 'abc123',
      private_key: privateKeyPem,
      client_email: 'bot@demo-project.iam.gserviceaccount.com',
    };
  }

  function configWith(credentials: string | undefined, extraProviders: Array<Record<string, unknown>> = []): Config {
    const data = minimal();
    data.llm.providers.push(...extraProviders);
    const sheets = credentials === undefined ? data.sheets : { ...data.sheets, credentials_file: credentials };
    return loadConfig(writeConfig({ ...data, sheets }), {});
  }

  /** A distinctive piece of the key body, to catch a key quoted without its PEM armour. */
  function keyBody(): string {
    return privateKeyPem.split('\n')[5] ?? '';
  }

  it('returns the service account and each provider API key', () => {
    const config = configWith(keyFile(serviceAccount()), [{ name: 'backup', model: 'm', api_key_env: 'BACKUP_KEY' }]);
    const { secrets, warnings } = loadSecrets(config, { OPENAI_API_KEY: ` ${apiKey}\n`, BACKUP_KEY: 'backup-key-value' });
    expect(secrets.serviceAccount.client_email).toBe('bot@demo-project.iam.gserviceaccount.com');
    expect(secrets.apiKeys.get('primary')).toBe(apiKey);
    expect(secrets.apiKeys.get('backup')).toBe('backup-key-value');
    expect(secrets.all).toEqual([privateKeyPem, apiKey, 'backup-key-value']);
    expect(warnings).toEqual([]);
  });

  it('reports a missing credentials file under sheets.credentials_file', () => {
    const missing = path.join(dir, 'absent.json');
    const error = configError(() => loadSecrets(configWith(missing), { OPENAI_API_KEY: apiKey }));
    expect(problemAt(error, 'sheets.credentials_file')).toContain(`${missing} does not exist`);
  });

  it('reports a credentials file that is not JSON', () => {
    const file = keyFile('-----BEGIN PRIVATE KEY-----\nnot json\n');
    const error = configError(() => loadSecrets(configWith(file), { OPENAI_API_KEY: apiKey }));
    expect(problemAt(error, 'sheets.credentials_file')).toContain('is not JSON');
  });

  it('rejects a user credential and says a service-account key is needed', () => {
    const file = keyFile({ type: 'authorized_user', client_id: 'id', client_secret: 'user-secret-value', refresh_token: '1//refresh-token-value' });
    const error = configError(() => loadSecrets(configWith(file), { OPENAI_API_KEY: apiKey }));
    const message = problemAt(error, 'sheets.credentials_file');
    expect(message).toContain('"authorized_user" credential');
    expect(message).toContain('"type": "service_account"');
    expect(error.message).not.toContain('user-secret-value');
    expect(error.message).not.toContain('1//refresh-token-value');
  });

  it('rejects a service-account file without a private key', () => {
    const { private_key: _key, ...rest } = serviceAccount();
    const error = configError(() => loadSecrets(configWith(keyFile(rest)), { OPENAI_API_KEY: apiKey }));
    expect(problemAt(error, 'sheets.credentials_file')).toContain('no "private_key"');
  });

  it('falls back to GOOGLE_APPLICATION_CREDENTIALS and names it when that file is missing', () => {
    const config = configWith(undefined);
    const good = loadSecrets(config, { OPENAI_API_KEY: apiKey, GOOGLE_APPLICATION_CREDENTIALS: keyFile(serviceAccount()) });
    expect(good.secrets.serviceAccount.client_email).toContain('@');

    const error = configError(() => loadSecrets(config, { OPENAI_API_KEY: apiKey, GOOGLE_APPLICATION_CREDENTIALS: path.join(dir, 'gone.json') }));
    expect(problemAt(error, 'GOOGLE_APPLICATION_CREDENTIALS')).toContain('does not exist');
  });

  it('says where to put the key when neither credentials_file nor the variable is set', () => {
    const error = configError(() => loadSecrets(configWith(undefined), { OPENAI_API_KEY: apiKey }));
    expect(problemAt(error, 'sheets.credentials_file')).toContain('GOOGLE_APPLICATION_CREDENTIALS');
  });

  it('names llm.providers[0].api_key_env when the API key variable is not set', () => {
    const error = configError(() => loadSecrets(configWith(keyFile(serviceAccount())), { OPENAI_API_KEY: '   ' }));
    const message = problemAt(error, 'llm.providers[0].api_key_env');
    expect(message).toContain('OPENAI_API_KEY is not set');
    expect(message).toContain('"primary"');
  });

  it('reports a bad key file and every missing API key at once', () => {
    const config = configWith(path.join(dir, 'absent.json'), [{ name: 'backup', model: 'm', api_key_env: 'BACKUP_KEY' }]);
    const error = configError(() => loadSecrets(config, {}));
    expect(error.problems.map((p) => p.path)).toEqual(['sheets.credentials_file', 'llm.providers[0].api_key_env', 'llm.providers[1].api_key_env']);
  });

  it('warns to chmod 600 a key file that other users can read', () => {
    const file = keyFile(serviceAccount(), 0o644);
    const { warnings } = loadSecrets(configWith(file), { OPENAI_API_KEY: apiKey });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`chmod 600 ${file}`);
    expect(warnings[0]).toContain('644');
  });

  it('gives no warning for a key file only its owner can read', () => {
    const { warnings } = loadSecrets(configWith(keyFile(serviceAccount(), 0o600)), { OPENAI_API_KEY: apiKey });
    expect(warnings).toEqual([]);
  });

  it('never puts the private key or an API key in a message or a warning', () => {
    const texts: string[] = [];
    const collect = (error: ConfigError) => texts.push(error.message, error.hint ?? '', JSON.stringify(error.problems));

    const readable = keyFile(serviceAccount(), 0o644);
    texts.push(...loadSecrets(configWith(readable), { OPENAI_API_KEY: apiKey }).warnings);
    const twoProviders = configWith(readable, [{ name: 'backup', model: 'm', api_key_env: 'BACKUP_KEY' }]);
    collect(configError(() => loadSecrets(twoProviders, { OPENAI_API_KEY: apiKey })));
    const wrongType = keyFile({ ...serviceAccount(), type: 'external_account' }, 0o600, 'wrong.json');
    collect(configError(() => loadSecrets(configWith(wrongType), { OPENAI_API_KEY: apiKey })));
    const notPem = keyFile({ ...serviceAccount(), private_key: keyBody() }, 0o600, 'notpem.json');
    collect(configError(() => loadSecrets(configWith(notPem), { OPENAI_API_KEY: apiKey })));

    expect(texts.join('\n').length).toBeGreaterThan(200);
    for (const text of texts) {
      expect(text).not.toContain(apiKey);
      expect(text).not.toContain('PRIVATE KEY-----');
      expect(text).not.toContain(keyBody());
    }
  });
});
