/**
 * What the language server answers for a run configuration, as plain functions over the document's text and a
 * small environment (files and images), so the answers can be tested without a connection or Docker.
 *
 * Built on the runconfig module rather than yaml-language-server: the key table already holds every key's
 * documentation, enums and position lookup, and diagnostics must come from parseRunConfigDocument so the
 * editor and `mlw run --config` never disagree; a JSON-Schema validator on top would report the same
 * mistakes a second time in other words.
 */
import * as path from 'node:path';
import type {
  CodeAction,
  CompletionItem,
  Diagnostic,
  Hover,
  Position,
  Range,
} from 'vscode-languageserver';
import {
  RunConfigKey,
  exampleSnippet,
  keyAt,
  keysUnder,
  parseMemory,
  parseRunConfigDocument,
  runConfigLocationAt,
} from '../model/runconfig/runConfig';
import { formatBytes } from '../model/common/format';

/** Diagnostic codes the quick fixes recognise. */
export const Codes = {
  unknownKey: 'unknown-key',
  size: 'invalid-size',
  scriptMissing: 'script-missing',
  imageMissing: 'image-missing',
  tooLarge: 'too-large',
  problem: 'invalid',
} as const;

export const SOURCE = 'ML Workbench';

/** The extension's command behind "Pick a script…" (Commands.pickRunConfigScript); the server names it, the client runs it. */
export const PICK_SCRIPT_COMMAND = 'mlw.pickRunConfigScript';

/**
 * Beyond this the document is not parsed: a run configuration is a few lines, and the parser's duplicate-key
 * check grows with the square of a mapping's size (40,000 env entries, 700 KB, take about 10 s), time in which
 * the server would answer nothing.
 */
export const MAX_CHECKED_CHARS = 128 * 1024;

export interface ImageInfo {
  id: string;
  sizeBytes: number;
  created: string;
}

/** What the service may ask of the machine. Every call may fail or be slow; callers bound them. */
export interface Environment {
  /** Whether `rel` (forward slashes) is a file under the workspace folder `root`. */
  fileExists(root: string, rel: string): Promise<boolean>;
  /** Workspace-relative .py files, for completion and "pick a script". */
  listScripts(root: string): Promise<string[]>;
  /** The image, `null` when the engine answered that it has no such image, `undefined` when there is no answer (no Docker). */
  inspectImage(ref: string): Promise<ImageInfo | null | undefined>;
  /** Local image tags (repo:tag), empty without Docker. */
  listImageTags(): Promise<string[]>;
}

/** The workspace folder of `<root>/.mlw/runconfigs/<name>.yaml`. */
export function workspaceRootOf(file: string): string {
  return path.dirname(path.dirname(path.dirname(file)));
}

export function configNameOf(file: string): string {
  return path.basename(file).replace(/\.ya?ml$/i, '');
}

/** True for documents the server speaks for. Forward or back slashes. */
export function isRunConfigPath(file: string): boolean {
  return /[\\/]\.mlw[\\/]runconfigs[\\/][^\\/]+\.ya?ml$/i.test(file);
}

/**
 * Every problem at once: the parser's (exactly what the runner refuses), then the checks that need the
 * machine: the script must exist (the runner refuses it too), the image should be on the engine (a warning:
 * it may be pulled or built later; without Docker, nothing is said).
 */
export async function diagnose(file: string, text: string, env: Environment): Promise<Diagnostic[]> {
  if (text.length > MAX_CHECKED_CHARS) {
    return [{
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      // A warning: the runner does not refuse a large file, the editor only declines to check it.
      severity: 2,
      source: SOURCE,
      code: Codes.tooLarge,
      message: `This file is ${formatBytes(Buffer.byteLength(text))}, too large to be a run configuration (they are a few lines), so the editor does not check it; \`mlw run --config\` still does.`,
    }];
  }
  const { config, problems } = parseRunConfigDocument(configNameOf(file), file, text);
  const diagnostics: Diagnostic[] = problems.map((p) => ({
    range: p.range,
    severity: p.severity === 'error' ? 1 : 2,
    source: SOURCE,
    code: codeOf(p.key, p.message),
    message: `${p.key}: ${p.message}`,
  }));
  // The parser stops at a syntax error, and then the tree is a guess: checking files against it would only add noise.
  const syntaxError = problems.some((p) => p.key.startsWith('line '));
  if (syntaxError) return diagnostics;
  const root = workspaceRootOf(file);
  const located = valueRanges(text);
  const script = config?.script ?? scriptValue(text);
  if (script && located.script && !(await env.fileExists(root, script).catch(() => true))) {
    diagnostics.push({
      range: located.script,
      severity: 1,
      source: SOURCE,
      code: Codes.scriptMissing,
      message: `script: "${script}" does not exist in the workspace folder`,
      data: { script },
    });
  }
  const image = config?.image;
  if (image && located.image) {
    const info = await env.inspectImage(image).catch(() => undefined);
    if (info === null) {
      diagnostics.push({
        range: located.image,
        severity: 2,
        source: SOURCE,
        code: Codes.imageMissing,
        // A warning, not an error: the image may be pulled or built before the run; the runner refuses it only then.
        message: `image: "${image}" is not on the Docker engine; a run refuses it until you pull it ("docker pull ${image}") or build it`,
      });
    }
  }
  return diagnostics;
}

function codeOf(key: string, message: string): string {
  if (message.startsWith('unknown key')) return Codes.unknownKey;
  if (key === 'resources.memory') return Codes.size;
  return Codes.problem;
}

/** The script's value when the parser refused something else in the file (config is then absent). */
function scriptValue(text: string): string | undefined {
  const match = /^script:[ \t]*["']?([^"'#\n]*?\.py)["']?[ \t]*(?:#.*)?$/m.exec(text);
  const value = match?.[1].trim().replace(/\\/g, '/');
  if (!value || value.startsWith('/') || /^[A-Za-z]:/.test(value) || value.split('/').includes('..')) return undefined;
  return path.posix.normalize(value);
}

/** Ranges of the top-level script and image values, from the same position lookup hover uses. */
function valueRanges(text: string): { script?: Range; image?: Range } {
  const out: { script?: Range; image?: Range } = {};
  for (const name of ['script', 'image'] as const) {
    const match = new RegExp(`^${name}:[ \\t]*(\\S)`, 'm').exec(text);
    if (!match) continue;
    const at = runConfigLocationAt(text, match.index + match[0].length - 1);
    if (at?.on === 'value' && at.path.join('.') === name) out[name] = at.range;
  }
  return out;
}

export function offsetAt(text: string, position: Position): number {
  let offset = 0;
  for (let line = 0; line < position.line; line++) {
    const next = text.indexOf('\n', offset);
    if (next < 0) return text.length;
    offset = next + 1;
  }
  const end = text.indexOf('\n', offset);
  return Math.min(offset + position.character, end < 0 ? text.length : end);
}

/** The mapping a line at `indent` belongs to: the nearest line above with less indentation that opens one. */
function parentAt(lines: string[], lineNo: number, indent: number): string[] {
  const parents: string[] = [];
  let current = indent;
  for (let i = lineNo - 1; i >= 0 && current > 0; i--) {
    const m = /^(\s*)([^\s#:][^:#]*):\s*(?:#.*)?$/.exec(lines[i]);
    if (!m) continue;
    if (m[1].length < current) {
      parents.unshift(m[2].trim());
      current = m[1].length;
    }
  }
  return parents;
}

function keyDocumentation(k: RunConfigKey): string {
  const lines = [`**${k.path}**: ${k.type}`, '', k.documentation, '', '```yaml', exampleSnippet(k), '```'];
  if (k.default !== undefined && typeof k.default !== 'object') lines.push('', `Default: \`${String(k.default)}\``);
  return lines.join('\n');
}

export async function complete(file: string, text: string, position: Position, env: Environment): Promise<CompletionItem[]> {
  const lines = text.split('\n');
  const line = lines[position.line] ?? '';
  const before = line.slice(0, position.character);
  const indent = /^\s*/.exec(line)![0].length;
  const parents = parentAt(lines, position.line, indent);
  // Typing a key: nothing but a word so far on the line.
  const keyMatch = /^(\s*)([\w.-]*)$/.exec(before);
  if (keyMatch) {
    const parent = parents.join('.');
    if (parent && !keyAt(parent)?.children) return [];
    const present = new Set(siblingKeys(lines, position.line, indent));
    const range: Range = { start: { line: position.line, character: keyMatch[1].length }, end: { line: position.line, character: keyMatch[1].length + keyMatch[2].length } };
    return keysUnder(parent)
      .filter((k) => !present.has(k.name))
      .map((k, i) => {
        const nested = !!k.children || k.schema.type === 'object';
        return {
          label: k.name,
          kind: 10, // Property
          detail: k.type,
          documentation: { kind: 'markdown', value: keyDocumentation(k) },
          sortText: String(i).padStart(2, '0'),
          textEdit: { range, newText: nested ? `${k.name}:\n${' '.repeat(keyMatch[1].length + 2)}` : `${k.name}: ` },
        } satisfies CompletionItem;
      });
  }
  const valueMatch = /^(\s*)([\w.-]+):[ \t]*(["']?)([^"'#]*)$/.exec(before);
  if (!valueMatch) return [];
  const k = keyAt([...parents, valueMatch[2]]);
  if (!k) return [];
  // Replaces what is typed after the colon (and after an opening quote, which stays).
  const start = before.length - valueMatch[4].length;
  const range: Range = { start: { line: position.line, character: start }, end: { line: position.line, character: position.character } };
  const values = (labels: string[], kind: CompletionItem['kind'], detail?: (label: string) => string | undefined): CompletionItem[] =>
    labels.map((label) => ({ label, kind, detail: detail?.(label), textEdit: { range, newText: label } }));
  if (k.enumValues) return values([...k.enumValues], 12 /* Value */);
  if (k.path === 'script') return values(await env.listScripts(workspaceRootOf(file)).catch(() => []), 17 /* File */);
  if (k.path === 'image') return values(await env.listImageTags().catch(() => []), 12, () => 'local image');
  return [];
}

/** Keys already written in the same mapping as `lineNo`, so completion does not offer them twice. */
function siblingKeys(lines: string[], lineNo: number, indent: number): string[] {
  const names: string[] = [];
  const collect = (i: number) => {
    const line = lines[i];
    if (line.trim() === '' || line.trim().startsWith('#')) return 'skip';
    const own = /^\s*/.exec(line)![0].length;
    if (own < indent) return 'stop';
    const m = /^\s*([^\s#:-][^:#]*):/.exec(line);
    if (own === indent && m) names.push(m[1].trim());
    return 'skip';
  };
  for (let i = lineNo - 1; i >= 0 && collect(i) !== 'stop'; i--);
  for (let i = lineNo + 1; i < lines.length && collect(i) !== 'stop'; i++);
  return names;
}

export async function hover(text: string, position: Position, env: Environment): Promise<Hover | null> {
  const at = runConfigLocationAt(text, offsetAt(text, position));
  if (!at) return null;
  if (!at.key) {
    if (at.path[0] === 'env' && at.path.length === 2) {
      return { range: at.range, contents: { kind: 'markdown', value: `Environment variable \`${at.path[1]}\` of the script.` } };
    }
    return null;
  }
  const parts = [keyDocumentation(at.key)];
  if (at.key.path === 'image' && at.on === 'value') {
    const ref = text.slice(offsetAt(text, at.range.start), offsetAt(text, at.range.end)).trim().replace(/^["']|["']$/g, '');
    const info = await env.inspectImage(ref).catch(() => undefined);
    if (info) parts.unshift(`**${ref}** · ${formatBytes(info.sizeBytes)} · created ${info.created.slice(0, 10)} · \`${info.id.replace(/^sha256:/, '').slice(0, 12)}\``, '');
    else if (info === null) parts.unshift(`**${ref}** is not on the Docker engine.`, '');
  }
  return { range: at.range, contents: { kind: 'markdown', value: parts.join('\n') } };
}

/**
 * Quick fixes for the commonest mistakes: a misspelt key (the parser's "did you mean"), a size in the wrong
 * unit, a script that does not exist (the closest scripts of the workspace to pick from).
 */
export async function codeActions(uri: string, file: string, text: string, diagnostics: Diagnostic[], env: Environment): Promise<CodeAction[]> {
  const actions: CodeAction[] = [];
  const edit = (title: string, diagnostic: Diagnostic, range: Range, newText: string, preferred = false): CodeAction => ({
    title,
    kind: 'quickfix',
    diagnostics: [diagnostic],
    isPreferred: preferred,
    edit: { changes: { [uri]: [{ range, newText }] } },
  });
  for (const d of diagnostics) {
    if (d.source !== SOURCE) continue;
    if (d.code === Codes.unknownKey) {
      const meant = /did you mean "([^"]+)"/.exec(d.message)?.[1];
      if (meant) actions.push(edit(`Change to "${meant}"`, d, d.range, meant, true));
    } else if (d.code === Codes.size) {
      const written = text.slice(offsetAt(text, d.range.start), offsetAt(text, d.range.end));
      for (const fixed of sizeFixes(written)) actions.push(edit(`Change to ${fixed}`, d, d.range, fixed, actions.length === 0));
    } else if (d.code === Codes.scriptMissing) {
      const missing = (d.data as { script?: string } | undefined)?.script ?? '';
      const scripts = await env.listScripts(workspaceRootOf(file)).catch(() => []);
      for (const script of closestScripts(missing, scripts, 5)) actions.push(edit(`Use ${script}`, d, d.range, script, actions.length === 0));
      // Every script, in a picker on the client side: the five above are guesses.
      actions.push({ title: 'Pick a script…', kind: 'quickfix', diagnostics: [d], command: { title: 'Pick a script…', command: PICK_SCRIPT_COMMAND, arguments: [uri, d.range] } });
    }
  }
  return actions;
}

/** Spellings of the same size the parser accepts: "2 gigs" → 2g, "512" bytes (surely meant MB) → 512m. */
export function sizeFixes(written: string): string[] {
  const raw = written.trim().replace(/^["']|["']$/g, '');
  const match = /^(\d+(?:[.,]\d+)?)\s*([a-zA-Z]*)/.exec(raw);
  if (!match) return [];
  const number = match[1].replace(',', '.');
  const letter = match[2].charAt(0).toLowerCase();
  const candidates = 'kmgt'.includes(letter) && letter ? [`${number}${letter}`] : ['m', 'g'].map((u) => `${number}${u}`);
  return candidates.filter((c) => c !== raw && (parseMemory(c) ?? 0) >= 6 * 1024 * 1024);
}

function closestScripts(missing: string, scripts: string[], count: number): string[] {
  const base = path.posix.basename(missing).toLowerCase();
  const score = (s: string) => {
    const name = path.posix.basename(s).toLowerCase();
    // The same folder as the script that is missing counts for more than a similar name elsewhere.
    const elsewhere = path.posix.dirname(s) === path.posix.dirname(missing) ? 0 : 0.5;
    if (name === base) return elsewhere;
    if (name.includes(base.replace(/\.py$/, '')) || base.includes(name.replace(/\.py$/, ''))) return 1 + elsewhere;
    return 1 + elsewhere + distance(name, base) / 100;
  };
  return [...scripts].sort((a, b) => score(a) - score(b) || a.localeCompare(b)).slice(0, count);
}

function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length];
}
