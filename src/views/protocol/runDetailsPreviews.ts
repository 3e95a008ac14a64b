/**
 * Previews of a run's outputs in its details: which outputs get one (images inline, CSV and JSON as a small
 * table), the caps that keep a panel light whatever a script writes, and the parsing of tables from text. Pure:
 * no vscode, no node, no DOM; the panel reads the bytes (src/views/details/outputPreviews.ts).
 */

/** Most images shown inline, and the largest one loaded; bigger ones are listed, not loaded. */
export const MAX_IMAGES = 12;
export const MAX_IMAGE_BYTES = 2 * 1024 * 1024;
/** Most tables previewed, the largest file read for one, and what a table shows of it. */
export const MAX_TABLES = 6;
export const MAX_TABLE_BYTES = 256 * 1024;
export const MAX_TABLE_ROWS = 20;
export const MAX_TABLE_COLUMNS = 20;
export const MAX_CELL = 200;

export type ImageMime = 'image/png' | 'image/jpeg' | 'image/svg+xml';

export type OutputPreview =
  | { path: string; kind: 'image'; mime: ImageMime; size: number; /** A data: URI (the CSP allows data: images). */ src: string }
  | { path: string; kind: 'table'; format: 'csv' | 'json'; size: number; columns: string[]; rows: string[][]; /** Rows or columns left out. */ truncated: boolean }
  /** An output that would get a preview but is not loaded: too large, over the count, or unreadable. */
  | { path: string; kind: 'listed'; size: number; reason: string };

export type PreviewKind = { kind: 'image'; mime: ImageMime } | { kind: 'table'; format: 'csv' | 'json' };

/** What kind of preview an output gets from its name, or undefined for none. */
export function previewKindOf(path: string): PreviewKind | undefined {
  const ext = /\.([^./]+)$/.exec(path.toLowerCase())?.[1];
  if (ext === 'png') return { kind: 'image', mime: 'image/png' };
  if (ext === 'jpg' || ext === 'jpeg') return { kind: 'image', mime: 'image/jpeg' };
  if (ext === 'svg') return { kind: 'image', mime: 'image/svg+xml' };
  if (ext === 'csv') return { kind: 'table', format: 'csv' };
  if (ext === 'json') return { kind: 'table', format: 'json' };
  return undefined;
}

/** Whether the bytes are what the name says (a .png that is not a PNG is not shown as one). */
export function imageBytesMatch(mime: ImageMime, bytes: Uint8Array): boolean {
  if (mime === 'image/png') return bytes.length >= 8 && [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((b, i) => bytes[i] === b);
  if (mime === 'image/jpeg') return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  // SVG: text with an <svg element near the start (after an XML declaration, comments, a doctype).
  const head = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, 4096));
  return /<svg[\s>]/i.test(head);
}

function cell(v: string): string {
  return v.length > MAX_CELL ? `${v.slice(0, MAX_CELL)}…` : v;
}

/** CSV records (RFC 4180: quoted fields, doubled quotes, newlines inside quotes), at most `maxRecords`. */
export function parseCsv(text: string, maxRecords: number): { records: string[][]; complete: boolean } {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const endRecord = (): void => {
    record.push(field);
    field = '';
    if (!(record.length === 1 && record[0] === '')) records.push(record);
    record = [];
  };
  for (; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      if (records.length >= maxRecords) return { records, complete: i >= text.length - 1 };
    } else field += c;
  }
  if (field !== '' || record.length) endRecord();
  return { records, complete: true };
}

function table(columns: string[], rows: string[][], truncated: boolean): { columns: string[]; rows: string[][]; truncated: boolean } {
  const cut = columns.length > MAX_TABLE_COLUMNS || rows.some((r) => r.length > MAX_TABLE_COLUMNS);
  const width = Math.min(MAX_TABLE_COLUMNS, Math.max(columns.length, ...rows.map((r) => r.length)));
  const pad = (r: string[]) => Array.from({ length: width }, (_, i) => cell(r[i] ?? ''));
  return { columns: pad(columns), rows: rows.slice(0, MAX_TABLE_ROWS).map(pad), truncated: truncated || cut || rows.length > MAX_TABLE_ROWS };
}

/** A CSV file as a small table: its first record is the header. `whole` says the text is the whole file. */
export function csvTable(text: string, whole: boolean): { columns: string[]; rows: string[][]; truncated: boolean } | undefined {
  const { records, complete } = parseCsv(text, MAX_TABLE_ROWS + 2);
  if (!records.length) return undefined;
  return table(records[0], records.slice(1), !complete || !whole);
}

function jsonCell(v: unknown): string {
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A JSON value as a small table: a list of objects by their keys, a list of values as one column, an object as
 * key/value rows. Undefined when the text is not JSON (or is a lone value, which needs no table).
 */
export function jsonTable(text: string): { columns: string[]; rows: string[][]; truncated: boolean } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (Array.isArray(value)) {
    if (value.length && value.every(isRecord)) {
      const columns: string[] = [];
      for (const row of value.slice(0, MAX_TABLE_ROWS)) for (const k of Object.keys(row)) if (!columns.includes(k)) columns.push(k);
      const rows = value.map((row) => columns.map((k) => (Object.hasOwn(row, k) ? jsonCell(row[k]) : '')));
      return table(columns, rows, false);
    }
    return table(['value'], value.map((v) => [jsonCell(v)]), false);
  }
  if (isRecord(value)) return table(['key', 'value'], Object.keys(value).map((k) => [k, jsonCell(value[k])]), false);
  return undefined;
}
