/** The Sheets emulator's read-only HTML view (npm run emulators prints its link). */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { startSheetsEmulator, type SheetsEmulator } from '../support/sheets-emulator/index.js';
import { html } from '../support/sheets-emulator/view.js';

let emu: SheetsEmulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

const unescape = (text: string) => text.replace(/&(lt|gt|quot|#39|amp);/g, (_, e: string) => ({ lt: '<', gt: '>', quot: '"', '#39': "'", amp: '&' })[e] ?? '');

describe('the HTML view of the emulated sheet', () => {
  it('lists the tabs and shows the values, a cell holding <script> as text, with no token and no API call', async () => {
    emu = await startSheetsEmulator();
    emu.addSpreadsheet('book-1', [
      { title: 'Statuses', rows: [['Project', 'Comment'], ['PRJ-1', '<script>alert("x")</script> & more']] },
      { title: 'Tab "<b>"', rows: [['a']] },
    ]);
    const response = await fetch(`${emu.url}view/book-1`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    const page = await response.text();
    expect(page).toContain('<td>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more</td>');
    expect(page).not.toMatch(/<script/i);
    expect(page).toContain('<td>PRJ-1</td>');
    expect(page).toContain('<li><b>Statuses</b></li>');
    expect(page).toContain('>Tab &quot;&lt;b&gt;&quot;</a></li>');
    expect(page).toContain('href="/view/book-1/Tab%20%22%3Cb%3E%22"');

    const other = await (await fetch(`${emu.url}view/book-1/${encodeURIComponent('Tab "<b>"')}`)).text();
    expect(other).toContain('<li><b>Tab &quot;&lt;b&gt;&quot;</b></li>');
    expect(other).toContain('<td>a</td>');
    expect(await (await fetch(`${emu.url}view`)).text()).toContain('<a href="/view/book-1">book-1</a>');
    expect(emu.calls).toEqual([]);
  });

  it('is read-only and says what is missing', async () => {
    emu = await startSheetsEmulator();
    emu.addSpreadsheet('book-1', [{ title: 'Statuses', rows: [['x']] }]);
    const post = await fetch(`${emu.url}view/book-1`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect(emu.values('book-1', 'Statuses')).toEqual([['x']]);
    expect((await fetch(`${emu.url}view/nope`)).status).toBe(404);
    const noTab = await fetch(`${emu.url}view/book-1/Nope`);
    expect(noTab.status).toBe(404);
    expect(await noTab.text()).toContain('No tab &quot;Nope&quot;');
    // The API itself is untouched: still 401 without a token.
    expect((await fetch(`${emu.url}v4/spreadsheets/book-1`)).status).toBe(401);
  });

  it('escapes any text so that no markup survives, and loses nothing', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const out = html(text);
        expect(out).not.toMatch(/[<>"']/);
        expect(unescape(out)).toBe(text);
      }),
    );
  });
});
