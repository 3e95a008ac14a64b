/**
 * Reads what the details panel previews of a run's outputs, within the caps of runDetailsPreviews.ts. A script
 * wrote these files, so each is resolved through its links (and must stay inside the outputs folder), opened as
 * a run-written file (no links, FIFOs or devices; never blocking) and read only up to its cap. Previews are kept
 * by path, size and modification time, so a live run's refreshes do not read the same image again. No vscode.
 */
import * as fs from 'node:fs';
import { openRunWrittenFile } from '../../model/common/runWrittenFile';
import { resolveOutputPath, type OutputEntry } from '../../runner/artifacts';
import { formatBytes } from '../../model/common/format';
import {
  MAX_IMAGES,
  MAX_IMAGE_BYTES,
  MAX_TABLES,
  MAX_TABLE_BYTES,
  OutputPreview,
  csvTable,
  imageBytesMatch,
  jsonTable,
  previewKindOf,
} from '../protocol/runDetailsPreviews';

async function readCapped(file: string, cap: number): Promise<{ bytes: Buffer; mtimeMs: number; size: number } | undefined> {
  const handle = await openRunWrittenFile(file, 'the output');
  if (!handle) return undefined;
  try {
    const st = await handle.stat();
    const buf = Buffer.alloc(Math.min(cap, st.size));
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    return { bytes: buf.subarray(0, bytesRead), mtimeMs: st.mtimeMs, size: st.size };
  } finally {
    await handle.close();
  }
}

export class OutputPreviews {
  private cache = new Map<string, { key: string; preview: OutputPreview }>();

  constructor(private readonly outputsDir: string) {}

  /**
   * What identifies the images last read (path, size, modification time), to compare states by instead of their
   * data: URIs: a live run's state is compared every poll, and 12 images of 2 MB would make that 32 MB of JSON.
   */
  imageKeys(): string[] {
    return [...this.cache].filter(([, v]) => v.preview.kind === 'image').map(([rel, v]) => `${rel}\0${v.key}`);
  }

  /** Previews of the outputs that get one, in listing order; the rest of the outputs get none. */
  async read(outputs: readonly OutputEntry[]): Promise<OutputPreview[]> {
    const out: OutputPreview[] = [];
    const next = new Map<string, { key: string; preview: OutputPreview }>();
    let images = 0;
    let tables = 0;
    for (const o of outputs) {
      const kind = previewKindOf(o.rel);
      if (!kind) continue;
      const listed = (reason: string): OutputPreview => ({ path: o.rel, kind: 'listed', size: o.size, reason });
      if (kind.kind === 'image') {
        if (o.size > MAX_IMAGE_BYTES) { out.push(listed(`${formatBytes(o.size)}: larger than the ${formatBytes(MAX_IMAGE_BYTES)} shown inline`)); continue; }
        if (images >= MAX_IMAGES) { out.push(listed(`only the first ${MAX_IMAGES} images are shown inline`)); continue; }
      } else {
        if (o.size > MAX_TABLE_BYTES) { out.push(listed(`${formatBytes(o.size)}: larger than the ${formatBytes(MAX_TABLE_BYTES)} previewed`)); continue; }
        if (tables >= MAX_TABLES) { out.push(listed(`only the first ${MAX_TABLES} tables are previewed`)); continue; }
      }
      let preview: OutputPreview;
      try {
        const real = await resolveOutputPath(this.outputsDir, o.rel);
        const st = await fs.promises.stat(real);
        const key = `${real}\0${st.size}\0${st.mtimeMs}`;
        const cached = this.cache.get(o.rel);
        preview = cached?.key === key ? cached.preview : await this.load(o, real, kind);
        next.set(o.rel, { key, preview });
      } catch (err) {
        preview = listed(`not read: ${(err as Error).message}`);
      }
      // Only what is shown counts against the caps: a fake or unreadable image leaves its slot to the next.
      if (preview.kind === 'image') images++;
      else if (preview.kind === 'table') tables++;
      out.push(preview);
    }
    this.cache = next;
    return out;
  }

  private async load(o: OutputEntry, real: string, kind: NonNullable<ReturnType<typeof previewKindOf>>): Promise<OutputPreview> {
    const cap = kind.kind === 'image' ? MAX_IMAGE_BYTES : MAX_TABLE_BYTES;
    const read = await readCapped(real, cap);
    if (!read) return { path: o.rel, kind: 'listed', size: o.size, reason: 'no longer there' };
    if (read.size > cap) return { path: o.rel, kind: 'listed', size: read.size, reason: `${formatBytes(read.size)}: grew past the ${formatBytes(cap)} previewed` };
    if (kind.kind === 'image') {
      if (!imageBytesMatch(kind.mime, read.bytes)) return { path: o.rel, kind: 'listed', size: read.size, reason: `not a ${kind.mime.slice(6).toUpperCase().replace('+XML', '')} image` };
      return { path: o.rel, kind: 'image', mime: kind.mime, size: read.size, src: `data:${kind.mime};base64,${read.bytes.toString('base64')}` };
    }
    const text = read.bytes.toString('utf8');
    const t = kind.format === 'csv' ? csvTable(text, true) : jsonTable(text);
    if (!t) return { path: o.rel, kind: 'listed', size: read.size, reason: kind.format === 'csv' ? 'an empty CSV file' : 'not JSON a table can show' };
    return { path: o.rel, kind: 'table', format: kind.format, size: read.size, ...t };
  }
}
