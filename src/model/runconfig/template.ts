/**
 * The commented template a new run configuration starts from, written from the key table: the active lines give
 * the default behaviour, the commented ones show every other setting with its example, so uncommenting a line
 * is all it takes to use it.
 */
import { stringify } from 'yaml';
import { RunConfigKey, TOP_LEVEL_KEYS } from './schema';

const HEADER = [
  '# ML Workbench run configuration.',
  '# "Run as Experiment" uses the configuration named "default"; "Run as Experiment…" lets you pick one.',
  '# To use a commented-out setting, delete the "# " in front of it (Toggle Line Comment does exactly that).',
];
const WIDTH = 110;

export function runConfigTemplate(script?: string): string {
  const relative = script?.replace(/\\/g, '/');
  const sections = TOP_LEVEL_KEYS.map((k) => {
    if (k.name === 'script' && relative !== undefined) {
      // A JSON string is a valid YAML double-quoted scalar: quoting covers spaces, "#" and ": " in paths.
      const value = /^[\w./-]+$/.test(relative) ? relative : JSON.stringify(relative);
      return [...comment(k), `script: ${value}`];
    }
    return [...comment(k), ...settingLines(k)];
  });
  return [...HEADER, ...sections.flatMap((lines) => ['', ...lines]), ''].join('\n');
}

/** The summary, then each fixed child's as a list item, so no comment line reads as a key to uncomment. */
function comment(k: RunConfigKey): string[] {
  return [
    ...wrap(k.summary, '# ', '# '),
    ...(k.children ?? []).flatMap((child) => wrap(`- ${child.name}: ${child.summary}`, '#   ', '#     ')),
  ];
}

function settingLines(k: RunConfigKey): string[] {
  const isMapping = k.children !== undefined || k.schema.type === 'object';
  if (isMapping) {
    const examples = k.children ? k.children.map((c) => `${c.name}: ${c.example}`) : k.example.split('\n');
    const head = k.default === undefined ? `# ${k.name}:` : `${k.name}:`;
    return [head, ...examples.map((line) => `#   ${line}`)];
  }
  if (k.default === undefined) return [`# ${k.name}: ${k.example}`];
  const active = stringify(k.default).trimEnd();
  return active === k.example ? [`${k.name}: ${active}`] : [`${k.name}: ${active}`, `# ${k.name}: ${k.example}`];
}

function wrap(text: string, first: string, rest: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    const prefix = lines.length === 0 ? first : rest;
    if (line && prefix.length + line.length + 1 + word.length > WIDTH) {
      lines.push(prefix + line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  lines.push((lines.length === 0 ? first : rest) + line);
  return lines;
}
