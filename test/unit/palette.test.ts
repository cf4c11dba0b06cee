import { describe, expect, it } from 'vitest';
import { VERDICT_LOOKS, contrast, rgb, verdictOf } from '../../src/sheets/index.js';
import { verdictRule } from '../../src/sheets/column-look.js';

/** WCAG relative luminance of a '#RRGGBB' colour (0 black to 1 white). */
function luminance(hex: string): number {
  const { red, green, blue } = rgb(hex);
  const lin = (c: number): number => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  return 0.2126 * lin(red) + 0.7152 * lin(green) + 0.0722 * lin(blue);
}

describe('the verdict palette', () => {
  it('covers every verdict the bot writes, each with its own fill', () => {
    expect(VERDICT_LOOKS.map((l) => l.text)).toEqual(['VALID', 'INVALID', 'NEEDS REVIEW', 'ERROR', 'VALID (reviewer)', 'INVALID (reviewer)']);
    expect(new Set(VERDICT_LOOKS.map((l) => l.fill)).size).toBe(VERDICT_LOOKS.length);
  });

  it('keeps text readable on its fill in light and dark themes alike (WCAG AA, 4.5:1)', () => {
    for (const look of VERDICT_LOOKS) expect(contrast(look.fill, look.ink), look.text).toBeGreaterThanOrEqual(4.5);
  });

  it('tells every two verdicts apart without hue: by text style, or by a clearly different lightness', () => {
    for (const a of VERDICT_LOOKS) {
      for (const b of VERDICT_LOOKS) {
        if (a === b) continue;
        const style = (l: typeof a) => `${l.bold}/${l.italic}/${l.strikethrough}`;
        const lighter = Math.abs(luminance(a.fill) - luminance(b.fill));
        expect(style(a) !== style(b) || lighter >= 0.1, `${a.text} vs ${b.text}`).toBe(true);
      }
    }
  });

  it("recognises its own rules, and not a person's that differs in any field", () => {
    for (const look of VERDICT_LOOKS) expect(verdictOf(verdictRule(look, 3, 1, 5))?.text).toBe(look.text);
    const mine = verdictRule(VERDICT_LOOKS[1]!, 0, 1, 2);
    const theirs = { ...mine, booleanRule: { ...mine.booleanRule, format: { ...mine.booleanRule?.format, textFormat: { ...mine.booleanRule?.format?.textFormat, italic: true } } } };
    expect(verdictOf(theirs)).toBeUndefined();
    // As Sheets returns it: floats, each colour twice, false fields left out.
    const returned = JSON.parse(JSON.stringify(mine).replace(/"italic":false,?/g, '').replace(/"red":0\.8353/, '"red":0.8352941')) as typeof mine;
    expect(verdictOf(returned)?.text).toBe('INVALID');
  });
});
