import * as fs from 'node:fs';
import * as path from 'node:path';

/** Finds the repository's python/ folder from wherever this module was bundled or compiled to. */
export function defaultHelperDir(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'python');
    if (fs.existsSync(path.join(candidate, 'mlw', '__init__.py'))) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`cannot find python/mlw/__init__.py above ${__dirname}`);
  }
}
