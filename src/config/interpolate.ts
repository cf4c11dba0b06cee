import type { ConfigProblem } from '../errors.js';
import { formatPath } from './problems.js';

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\$/g;

/**
 * Replaces `${VAR}` (and `${VAR:-fallback}`) in every string of a parsed YAML value.
 * `$$` stands for a literal `$`. A variable that is unset and has no fallback is a
 * problem naming the key and the variable; all of them are collected, not just the first.
 */
export function interpolate(
  value: unknown,
  env: NodeJS.ProcessEnv,
  problems: ConfigProblem[],
  path: PropertyKey[] = [],
): unknown {
  if (typeof value === 'string') {
    return value.replace(REFERENCE, (whole, name: string | undefined, fallback: string | undefined) => {
      if (whole === '$$') return '$';
      const found = env[name ?? ''];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      problems.push({
        path: formatPath(path),
        message: `environment variable ${name} is not set (referenced as \${${name}}); set it or give a default with \${${name}:-value}`,
      });
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => interpolate(item, env, problems, [...path, i]));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, interpolate(item, env, problems, [...path, key])]),
    );
  }
  return value;
}
