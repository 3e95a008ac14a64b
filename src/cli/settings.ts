import * as fs from 'node:fs';
import * as path from 'node:path';

/** Strips // and /* comments and trailing commas from JSONC (VS Code settings), leaving strings intact. */
export function parseJsonc(text: string): unknown {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
    } else {
      out += c;
      i++;
    }
  }
  return JSON.parse(out.replace(/,(\s*[}\]])/g, '$1'));
}

/**
 * The `mlw.*` settings of a workspace's .vscode/settings.json, so the CLI and the editor agree on, say,
 * the base image. Returns {} when there is no settings file.
 */
export function readWorkspaceSettings(workspaceRoot: string): Record<string, unknown> {
  const file = path.join(workspaceRoot, '.vscode', 'settings.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return {};
  }
  try {
    const all = parseJsonc(text) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(all ?? {}).filter(([k]) => k.startsWith('mlw.')));
  } catch (err) {
    throw new Error(`${file} is not valid JSON: ${(err as Error).message}`);
  }
}
