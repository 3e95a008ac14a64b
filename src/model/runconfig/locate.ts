/**
 * Which key the cursor is on, for hover and completion: the language server maps a position to a path here and
 * looks the path up in the key table, so it never walks YAML itself.
 */
import { LineCounter, YAMLMap, isMap, isScalar, parseDocument } from 'yaml';
import { RunConfigRange, rangeOf } from './problems';
import { RunConfigKey, keyAt } from './schema';

export interface RunConfigLocation {
  /** Key names from the top, e.g. ["resources", "cpus"] or ["env", "SEED"]. */
  path: string[];
  /** On the key's own text, or anywhere in its value. */
  on: 'key' | 'value';
  /** The table's entry for the path; undefined for unknown keys and free-form ones like env variables. */
  key?: RunConfigKey;
  /** Of the key's text or of the value, whichever the offset is in. */
  range: RunConfigRange;
}

/** Undefined outside any key (blank lines, comments) and for text that is not a mapping. Works on broken YAML too. */
export function runConfigLocationAt(text: string, offset: number): RunConfigLocation | undefined {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (!isMap(doc.contents)) return undefined;
  const located = find(doc.contents, [], offset);
  if (!located) return undefined;
  return { path: located.path, on: located.on, key: keyAt(located.path), range: rangeOf(lines, ...located.span) };
}

type Found = { path: string[]; on: 'key' | 'value'; span: [number, number] };

function find(map: YAMLMap, parent: string[], offset: number): Found | undefined {
  for (const pair of map.items) {
    if (!isScalar(pair.key) || !pair.key.range) continue;
    const path = [...parent, String(pair.key.value)];
    // Inclusive ends: a cursor just after the last character is still on the word, as editors place it.
    const [keyStart, keyEnd] = pair.key.range;
    if (offset >= keyStart && offset <= keyEnd) return { path, on: 'key', span: [keyStart, keyEnd] };
    const value = pair.value as { range?: [number, number, number] } | null;
    if (!value?.range) continue;
    const [start, end] = value.range;
    if (offset < start || offset > end) continue;
    if (isMap(value)) return find(value, path, offset) ?? { path, on: 'value', span: [start, end] };
    return { path, on: 'value', span: [start, end] };
  }
  return undefined;
}
