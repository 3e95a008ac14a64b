import * as path from 'node:path';

/**
 * Whether `candidate` is `root` itself or lies under it. Both must already be resolved (realpath) by the
 * caller: this compares strings, so a symlink or `..` left in either defeats it. The one containment check
 * for everything security-relevant (run outputs, snapshots, files a webview asks to open).
 */
export function isInsideFolder(root: string, candidate: string): boolean {
  return candidate === root || candidate.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}
