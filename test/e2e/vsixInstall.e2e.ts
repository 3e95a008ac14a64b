/**
 * What users install is what is tested: packages the extension with `npm run package` (vsce, production
 * bundles, .vscodeignore), checks what the .vsix holds, installs it into a fresh code-server extensions folder
 * with `--install-extension`, then opens a workspace in Chromium and completes a run through the installed
 * copy: scripts/hello.py, "ML Workbench: Run as Experiment" chosen in the palette with the keyboard, the run
 * Completed in the Runs view, and its details panel (the packaged webview bundle) rendered.
 *
 *   MLW_TEST_BASE_IMAGE=... npx mocha --no-config --timeout 300000 out/test/e2e/vsixInstall.e2e.js
 *   (MLW_VSIX=path.vsix tests that package instead of building one; npm run package rewrites dist/ minified.)
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LaunchedWorkbench, launchWorkbench } from '../harness/launchWorkbench';
import { REPO_ROOT, createTestWorkspace } from '../harness/testWorkspace';

/** Every file name in the zip, from `unzip -Z1` (Debian's unzip; node has no zip reader). */
function zipEntries(zip: string): string[] {
  return execFileSync('unzip', ['-Z1', zip], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

describe('the packaged extension (.vsix) installed into code-server', function () {
  this.timeout(300_000);
  let tmp: string;
  let vsix: string;
  let workspace: string | undefined;
  let workbench: LaunchedWorkbench | undefined;

  before(function () {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlw-vsix-'));
    if (process.env.MLW_VSIX) {
      vsix = path.resolve(process.env.MLW_VSIX);
      return;
    }
    vsix = path.join(tmp, 'ml-workbench.vsix');
    execFileSync('npm', ['run', '--silent', 'package', '--', '--out', vsix], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  });

  after(async function () {
    await workbench?.close();
    if (workspace) fs.rmSync(workspace, { recursive: true, force: true });
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('holds the bundles, the tracking module, media, schemas and docs, and nothing from the source tree', function () {
    const entries = zipEntries(vsix).filter((e) => e.startsWith('extension/')).map((e) => e.slice('extension/'.length));
    for (const required of ['package.json', 'readme.md', 'changelog.md', 'LICENSE.txt', 'dist/extension.js', 'dist/docker.js',
      'python/mlw/__init__.py', 'media/icon.svg', 'schemas/runconfig.schema.json']) {
      assert.ok(entries.includes(required), `${required} is in the package (it has: ${entries.join(', ')})`);
    }
    for (const webview of fs.readdirSync(path.join(REPO_ROOT, 'webviews')).filter((d) => fs.existsSync(path.join(REPO_ROOT, 'webviews', d, 'main.ts')))) {
      assert.ok(entries.includes(`dist/webviews/${webview}.js`), `the ${webview} webview bundle is in the package`);
    }
    const leaked = entries.filter((e) => /^(src|test|out|bench|scripts|examples|node_modules|webviews|\.ci|\.git)\//.test(e) || e.endsWith('.map') || e.endsWith('.ts'));
    assert.deepEqual(leaked, [], 'no sources, tests, build output, source maps or node_modules in the package');
    // The README is shown from the installed folder, relative image links and all: each must be in the package.
    const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const images = [...readme.matchAll(/!\[[^\]]*\]\(([^)\s]+)/g)].map((m) => m[1]).filter((src) => !/^[a-z]+:/i.test(src));
    assert.ok(images.length > 0, 'the README has images');
    for (const img of images) assert.ok(entries.includes(img.replace(/^\.\//, '')), `README image ${img} is in the package`);
    const manifest = JSON.parse(execFileSync('unzip', ['-p', vsix, 'extension/package.json'], { encoding: 'utf8' })) as { main: string; license: string; repository?: unknown };
    assert.ok(entries.includes(manifest.main.replace(/^\.\//, '')), `main (${manifest.main}) is in the package`);
    assert.equal(manifest.license, 'MIT');
    assert.ok(manifest.repository, 'package.json has a repository');
  });

  it('installs with --install-extension and completes a run from the palette, through the installed copy', async function () {
    workspace = createTestWorkspace('mlw-vsix-ws-');
    workbench = await launchWorkbench(workspace, { vsix });
    const { server, ui } = workbench;
    const installed = fs.readdirSync(server.extensionsDir).filter((d) => d.startsWith('ml-workbench.'));
    assert.equal(installed.length, 1, `one ML Workbench in ${server.extensionsDir}: ${installed.join(', ')}`);
    const extDir = path.join(server.extensionsDir, installed[0]);
    assert.equal(fs.lstatSync(extDir).isSymbolicLink(), false, 'a real installed folder, not a link to the checkout');
    assert.equal(fs.existsSync(path.join(extDir, 'src')), false, 'the installed folder has no sources');

    await ui.openFile('scripts/hello.py', 'hello from the experiment');
    await ui.runFromPalette('ML Workbench: Run as Experiment', { keyboard: true });
    const { runRow, shortId } = await ui.waitForCompletedRun('scripts/hello.py');
    await ui.openRunDetails(runRow, shortId, /Completed|hello/i);

    await ui.expectOneCompletedRunOnDisk(workspace!, 'scripts/hello.py', shortId);
    // Only the installed copy is in this extensions folder and no development path is passed, so the extension
    // host's activation of ML Workbench is the package's.
    const exthostLog = findFile(path.join(server.tmp, 'user-data', 'logs'), 'remoteexthost.log');
    if (exthostLog) {
      const text = fs.readFileSync(exthostLog, 'utf8');
      assert.match(text, /ExtensionService#_doActivateExtension ml-workbench\.ml-workbench/, 'the extension host activated ML Workbench');
    }
  });
});

function findFile(dir: string, name: string): string | undefined {
  if (!fs.existsSync(dir)) return undefined;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      const found = findFile(p, name);
      if (found) return found;
    } else if (entry.name === name) return p;
  }
  return undefined;
}
