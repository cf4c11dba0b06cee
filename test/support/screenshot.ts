/**
 * Screenshots of HTML pages in headless Chromium (Debian's `chromium` package, which
 * .ci/run installs; CHROMIUM_PATH overrides where it is), driven by playwright-core
 * (which downloads no browser of its own). One browser launch for all the pages; for
 * each page, the colours of the picture at the centre of chosen cells (the PNG decoded
 * by the same browser), so that a test asserts on what a person would see.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

export interface Shot {
  html: string;
  /** Where the PNG goes. */
  file: string;
  /** `data-cell` names ("Tab!J2") whose fill colour is wanted. */
  cells?: readonly string[];
  /** CSS width of the page; the height is the page's own. */
  width?: number;
}

export interface Photo {
  file: string;
  /** The picture's colour (#rrggbb) of each asked cell's fill (a point in its padding). */
  colours: Record<string, string>;
  /** Per chart canvas, how many of its pixels are neither white nor transparent (a drawn chart has many). */
  inkedChartPixels: number[];
}

/** Runs in the page (a string: the project's TypeScript has no DOM types): cell centres, chart boxes, the PNG's pixels there. */
const PROBE = `async ({ data, cells }) => {
  const all = [...document.querySelectorAll('[data-cell]')];
  const points = cells.map((name) => {
    const el = all.find((e) => e.getAttribute('data-cell') === name);
    const r = el && el.getBoundingClientRect();
    // Inside the cell's right padding, below its top border: the fill, never a letter of the text.
    return r ? { x: Math.round(r.right - 4 + window.scrollX), y: Math.round(r.top + 3 + window.scrollY) } : null;
  });
  const rects = [...document.querySelectorAll('canvas')].map((c) => {
    const r = c.getBoundingClientRect();
    return { x: Math.round(r.left + window.scrollX), y: Math.round(r.top + window.scrollY), w: Math.round(r.width), h: Math.round(r.height) };
  });
  const img = new Image();
  img.src = 'data:image/png;base64,' + data;
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = img.width;
  canvas.height = img.height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(img, 0, 0);
  const hex = (x, y) => '#' + [...ctx.getImageData(x, y, 1, 1).data.slice(0, 3)].map((v) => v.toString(16).padStart(2, '0')).join('');
  const inked = rects.map((rect) => {
    const px = ctx.getImageData(rect.x + 2, rect.y + 2, Math.max(1, rect.w - 4), Math.max(1, rect.h - 4)).data;
    let n = 0;
    for (let i = 0; i < px.length; i += 4) if (px[i + 3] > 0 && (px[i] < 235 || px[i + 1] < 235 || px[i + 2] < 235)) n++;
    return n;
  });
  return { colours: points.map((p) => (p ? hex(p.x, p.y) : '')), inked };
}`;

export async function photograph(shots: readonly Shot[]): Promise<Photo[]> {
  if (!existsSync(CHROMIUM)) throw new Error(`No Chromium at ${CHROMIUM}: install Debian's package (apt-get install -y --no-install-recommends chromium) or set CHROMIUM_PATH.`);
  // Root (CI, this machine) cannot use Chromium's sandbox.
  const browser = await chromium.launch({ executablePath: CHROMIUM, chromiumSandbox: false, args: ['--disable-gpu', '--font-render-hinting=none'] });
  try {
    const photos: Photo[] = [];
    for (const shot of shots) {
      const page = await browser.newPage({ viewport: { width: shot.width ?? 1400, height: 600 }, deviceScaleFactor: 1 });
      await page.setContent(shot.html, { waitUntil: 'load' });
      await page.waitForSelector('body[data-ready="yes"]');
      const png = await page.screenshot({ fullPage: true, type: 'png' });
      writeFileSync(shot.file, png);
      // The PNG itself, decoded by the browser: what is asserted is the picture, not the DOM.
      const decoded = await page.evaluate<{ colours: string[]; inked: number[] }>(`(${PROBE})(${JSON.stringify({ data: png.toString('base64'), cells: shot.cells ?? [] })})`);
      photos.push({ file: shot.file, colours: Object.fromEntries((shot.cells ?? []).map((name, i) => [name, decoded.colours[i] ?? ''])), inkedChartPixels: decoded.inked });
      await page.close();
    }
    return photos;
  } finally {
    await browser.close();
  }
}
