/** "1 call", "3 calls", "1,200 rows": a count and its noun, agreed. */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? one : many}`;
}
