import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from './testWorkspace';

/**
 * Copies parts of the checkout (paths relative to it) into a fresh folder every account can read, and
 * returns that folder. Tests that become another account with `setpriv` run code from the copy: a checkout
 * inside a private folder (a clone under `mktemp -d`, a home directory) is out of that account's reach.
 */
export function copyForAnotherAccount(...parts: string[]): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mlw-other-account-'));
  fs.chmodSync(root, 0o755);
  for (const part of parts) fs.cpSync(path.join(REPO_ROOT, part), path.join(root, part), { recursive: true });
  openToEveryone(root);
  return root;
}

function openToEveryone(dir: string): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      fs.chmodSync(full, 0o755);
      openToEveryone(full);
    } else if (entry.isFile()) {
      fs.chmodSync(full, fs.statSync(full).mode & 0o111 ? 0o755 : 0o644);
    }
  }
}
