/**
 * How each verdict looks in the sheet. The fills are the Okabe–Ito palette, designed to
 * stay distinguishable under every common colour-vision deficiency (Okabe & Ito, "Color
 * Universal Design (CUD): how to make figures and presentations that are friendly to
 * colorblind people", 2008, https://jfly.uni-koeln.de/color/; the palette Wong
 * recommends in Nature Methods 8:441, 2011, "Points of view: Color blindness",
 * https://doi.org/10.1038/nmeth.1618). Hue is never the only cue: each verdict also
 * differs in text weight or style (bold, italic, strikethrough), and ERROR is the only
 * dark fill. Every rule sets both the fill and the text colour, each pair at a contrast
 * of at least 4.5:1 (WCAG 2.1 AA): what a cell shows does not depend on the light or
 * dark theme of the viewer. Conditional formatting can set only bold, italic,
 * strikethrough, the text colour and the fill
 * (https://developers.google.com/sheets/api/samples/conditional-formatting), so these
 * are the only levers used.
 */

export interface Rgb {
  red: number;
  green: number;
  blue: number;
}

export interface VerdictLook {
  /** The cell text the rule matches exactly (TEXT_EQ). */
  text: string;
  fill: string;
  ink: string;
  bold: boolean;
  italic: boolean;
  strikethrough: boolean;
  /** What a person is told the look means (README, legend). */
  meaning: string;
}

/** Okabe–Ito colours, by their names in the paper. */
export const OKABE_ITO = {
  orange: '#E69F00',
  skyBlue: '#56B4E9',
  bluishGreen: '#009E73',
  yellow: '#F0E442',
  blue: '#0072B2',
  vermillion: '#D55E00',
  reddishPurple: '#CC79A7',
  black: '#000000',
} as const;

export const VERDICT_LOOKS: readonly VerdictLook[] = [
  { text: 'VALID', fill: OKABE_ITO.bluishGreen, ink: '#000000', bold: false, italic: false, strikethrough: false, meaning: 'the model found the row valid' },
  { text: 'INVALID', fill: OKABE_ITO.vermillion, ink: '#000000', bold: true, italic: false, strikethrough: false, meaning: 'the model found the row invalid (bold)' },
  { text: 'NEEDS REVIEW', fill: OKABE_ITO.yellow, ink: '#000000', bold: false, italic: true, strikethrough: false, meaning: 'the model was unsure: a person should decide (italic)' },
  { text: 'ERROR', fill: OKABE_ITO.black, ink: '#FFFFFF', bold: true, italic: false, strikethrough: true, meaning: 'no verdict: the row failed and is asked again next run (white on black, struck through)' },
  { text: 'VALID (reviewer)', fill: OKABE_ITO.skyBlue, ink: '#000000', bold: false, italic: true, strikethrough: false, meaning: "a reviewer's VALID stands (italic)" },
  { text: 'INVALID (reviewer)', fill: OKABE_ITO.reddishPurple, ink: '#000000', bold: true, italic: true, strikethrough: false, meaning: "a reviewer's INVALID stands (bold italic)" },
];

/** '#RRGGBB' as the API's Color (each part 0..1, rounded so that a read-back compares equal). */
export function rgb(hex: string): Rgb {
  const n = Number.parseInt(hex.slice(1), 16);
  const part = (shift: number): number => Math.round((((n >> shift) & 0xff) / 255) * 10_000) / 10_000;
  return { red: part(16), green: part(8), blue: part(0) };
}

/** WCAG 2.1 contrast ratio of two '#RRGGBB' colours (1 to 21). */
export function contrast(a: string, b: string): number {
  const lum = (hex: string): number => {
    const { red, green, blue } = rgb(hex);
    const lin = (c: number): number => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
    return 0.2126 * lin(red) + 0.7152 * lin(green) + 0.0722 * lin(blue);
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}
