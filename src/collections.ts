/**
 * Adds `value` to the list kept under `key`, creating the list on first use. In place:
 * copying the list on every add (`[...old, value]`) is quadratic, which a 100,000-row
 * sheet turns into seconds of CPU.
 */
export function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
