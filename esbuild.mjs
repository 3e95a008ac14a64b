// Builds three things: the extension host bundle (dist/extension.js, with Docker's client in dist/docker.js), the `mlw` CLI (dist/cli.js) and the
// browser bundles of webviews/ (dist/webviews/*.js). Tests are transpiled file by file into out/ so mocha
// can load them; type checking is `tsc --noEmit` (npm run typecheck), kept separate as esbuild does not check types.
import * as esbuild from 'esbuild';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { hostBundle } from './scripts/bundles.mjs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

function tsFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return tsFiles(p);
    return p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

const common = {
  bundle: true,
  minify: production,
  sourcemap: !production,
  sourcesContent: false,
  logLevel: 'warning',
};

const builds = [
  hostBundle({ production }),
  {
    ...common,
    entryPoints: Object.fromEntries(
      readdirSync('webviews', { withFileTypes: true })
        // A folder is a webview when it has a main.ts; others (shared/) only hold modules those import.
        .filter((d) => d.isDirectory() && existsSync(`webviews/${d.name}/main.ts`))
        .map((d) => [d.name, `webviews/${d.name}/main.ts`]),
    ),
    outdir: 'dist/webviews',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  },
  {
    // Tests, the harness and benchmarks: one output file per source file, imports left as they are.
    entryPoints: [...tsFiles('src'), ...tsFiles('test'), ...tsFiles('bench')],
    outbase: '.',
    outdir: 'out',
    bundle: false,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
  },
];

if (watch) {
  const contexts = await Promise.all(builds.map((b) => esbuild.context(b)));
  await Promise.all(contexts.map((c) => c.watch()));
  console.log('[esbuild] watching for changes');
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
