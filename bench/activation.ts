/**
 * Activation cost: ms from `require('extension.js')` to `activate(context)` returning, each sample in a fresh
 * node process (a warm process would find the bundle in require.cache and measure nothing), with `vscode`
 * replaced by a small fake of what activation touches. Baseline: the same child requiring an empty module, so
 * the figure is what the bundle costs on top of node's own module loading. Target ≤ 30 ms.
 *
 * The timed bundle is built here with esbuild.mjs's own options (scripts/bundles.mjs, production: minified, what
 * the .vsix ships); a second, unminified build of the same entry, with esbuild's module wrappers timed, says
 * where the time goes: reading and compiling the file, then each bundled package's initialisers.
 *
 *   node esbuild.mjs && node out/bench/activation.js      (MLW_BENCH_RUNS=N to change the sample count)
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import Module from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadAverage } from './lib/machine';
import { fmtRatio, median, percentile } from './lib/stats';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const RUNS = Number(process.env.MLW_BENCH_RUNS ?? 21);
const TARGET_MS = 30;
const PROFILE_RUNS = 7;

/** What one child measured, in ms. */
interface ChildSample {
  requireMs: number;
  activateMs: number;
  totalMs: number;
  /** Instrumented bundles only: what the module wrappers and region marks saw (see instrument()). */
  trace?: Trace;
  /** vscode API members activation reached that the fake does not model. */
  unmodelled: string[];
}

interface Trace {
  /** ms from require() to the bundle's first statement: node reading and compiling the file. */
  compileMs: number;
  /** Exclusive ms by bundled file: its top-level statements and its lazy initialiser, not the modules it pulls in. */
  self: Record<string, number>;
  /** "<file> -> <file>": inclusive ms of a wrapped module first initialised by another file's top-level code (or by activate()). */
  eager: Record<string, number>;
  /** activate() minus the modules it initialised on the way. */
  activateSelfMs: number;
}

// ---------------------------------------------------------------------------------------------------------
// Child side: `node activation.js --child <bundle> <workspaceFolder>`.

/** A fake `vscode`: real enough for the composition root to wire itself up, and it records what it lacks. */
function fakeVscode(folder: string, unmodelled: Set<string>): unknown {
  const disposable = () => ({ dispose() {} });
  class EventEmitter<T> {
    private listeners: ((e: T) => void)[] = [];
    event = (listener: (e: T) => void) => {
      this.listeners.push(listener);
      return { dispose: () => (this.listeners = this.listeners.filter((l) => l !== listener)) };
    };
    fire(e: T) {
      for (const l of this.listeners) l(e);
    }
    dispose() {
      this.listeners = [];
    }
  }
  class Disposable {
    static from(...items: { dispose(): unknown }[]) {
      return new Disposable(() => items.forEach((i) => i.dispose()));
    }
    constructor(private readonly fn: () => unknown) {}
    dispose() {
      this.fn();
    }
  }
  class Uri {
    constructor(readonly scheme: string, readonly authority: string, readonly path: string, readonly query = '', readonly fragment = '') {}
    get fsPath() {
      return this.path;
    }
    static file(p: string) {
      return new Uri('file', '', p);
    }
    static parse(s: string) {
      const m = /^([a-z][\w+.-]*):(?:\/\/([^/]*))?([^?#]*)/i.exec(s);
      return m ? new Uri(m[1], m[2] ?? '', m[3]) : Uri.file(s);
    }
    static from(c: { scheme: string; authority?: string; path?: string; query?: string; fragment?: string }) {
      return new Uri(c.scheme, c.authority ?? '', c.path ?? '', c.query, c.fragment);
    }
    static joinPath(base: Uri, ...parts: string[]) {
      return new Uri(base.scheme, base.authority, path.posix.join(base.path, ...parts));
    }
    with(change: Partial<Uri>) {
      return new Uri(change.scheme ?? this.scheme, change.authority ?? this.authority, change.path ?? this.path, change.query ?? this.query, change.fragment ?? this.fragment);
    }
    toString() {
      return `${this.scheme}://${this.authority}${this.path}`;
    }
  }
  class TreeItem {
    constructor(readonly label: unknown, readonly collapsibleState?: number) {}
  }
  class ThemeIcon {
    static readonly File = new ThemeIcon('file');
    static readonly Folder = new ThemeIcon('folder');
    constructor(readonly id: string, readonly color?: unknown) {}
  }
  class ThemeColor {
    constructor(readonly id: string) {}
  }
  class MarkdownString {
    constructor(public value = '') {}
    appendMarkdown(s: string) {
      this.value += s;
      return this;
    }
    appendText(s: string) {
      this.value += s;
      return this;
    }
  }
  class RelativePattern {
    constructor(readonly base: unknown, readonly pattern: string) {}
  }
  const channel = () => {
    const c: Record<string, unknown> = { name: 'ML Workbench', logLevel: 2, onDidChangeLogLevel: () => disposable() };
    for (const m of ['append', 'appendLine', 'replace', 'clear', 'show', 'hide', 'dispose', 'trace', 'debug', 'info', 'warn', 'error']) c[m] = () => undefined;
    return c;
  };
  const statusBarItem = () => ({ text: '', tooltip: '', command: undefined, show() {}, hide() {}, dispose() {} });
  const treeView = () => ({
    visible: true, selection: [], message: undefined, title: undefined, description: undefined, badge: undefined,
    onDidChangeVisibility: () => disposable(), onDidChangeSelection: () => disposable(),
    onDidExpandElement: () => disposable(), onDidCollapseElement: () => disposable(), onDidChangeCheckboxState: () => disposable(),
    reveal: async () => undefined, dispose() {},
  });
  const watcher = () => ({ onDidCreate: () => disposable(), onDidChange: () => disposable(), onDidDelete: () => disposable(), dispose() {} });
  const configuration = () => ({ get: (_key: string, dflt?: unknown) => dflt, has: () => false, inspect: () => undefined, update: async () => undefined });
  const workspaceFolder = { uri: Uri.file(folder), name: path.basename(folder), index: 0 };
  const event = () => disposable();

  const api = {
    EventEmitter, Disposable, Uri, TreeItem, ThemeIcon, ThemeColor, MarkdownString, RelativePattern,
    TreeItemCollapsibleState: { None: 0, Collapsed: 1, Expanded: 2 },
    StatusBarAlignment: { Left: 1, Right: 2 },
    ViewColumn: { Active: -1, Beside: -2, One: 1, Two: 2 },
    ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
    ConfigurationTarget: { Global: 1, Workspace: 2, WorkspaceFolder: 3 },
    LogLevel: { Off: 0, Trace: 1, Debug: 2, Info: 3, Warning: 4, Error: 5 },
    ExtensionMode: { Production: 1, Development: 2, Test: 3 },
    window: {
      createOutputChannel: channel, createStatusBarItem: statusBarItem, createTreeView: treeView,
      registerTreeDataProvider: disposable, registerWebviewPanelSerializer: disposable, registerWebviewViewProvider: disposable,
      registerFileDecorationProvider: disposable, registerUriHandler: disposable,
      onDidChangeActiveTextEditor: event, onDidChangeVisibleTextEditors: event, onDidChangeWindowState: event,
      activeTextEditor: undefined, visibleTextEditors: [], state: { focused: true },
    },
    workspace: {
      workspaceFolders: [workspaceFolder], isTrusted: true, textDocuments: [],
      getConfiguration: configuration, getWorkspaceFolder: () => workspaceFolder,
      onDidChangeConfiguration: event, onDidChangeWorkspaceFolders: event, onDidGrantWorkspaceTrust: event,
      onDidCloseTextDocument: event, onDidOpenTextDocument: event, onDidSaveTextDocument: event, onDidChangeTextDocument: event,
      createFileSystemWatcher: watcher, registerTextDocumentContentProvider: disposable,
      asRelativePath: (p: unknown) => String(p),
    },
    commands: { registerCommand: disposable, registerTextEditorCommand: disposable, executeCommand: async () => undefined, getCommands: async () => [] },
    languages: { registerHoverProvider: disposable, registerCompletionItemProvider: disposable, createDiagnosticCollection: () => ({ set() {}, delete() {}, clear() {}, dispose() {} }) },
    env: { language: 'en', appName: 'fake', uiKind: 1, openExternal: async () => true },
  };
  // Anything the fake lacks is recorded and answered by an inert stand-in, so a new API call in activation
  // shows up in the output instead of crashing the benchmark or silently timing a different code path.
  const inert = (name: string): unknown =>
    new Proxy(function () {}, {
      get: (_t, p) => (p === 'then' ? undefined : typeof p === 'symbol' ? undefined : inert(`${name}.${p}`)),
      apply: () => {
        unmodelled.add(`${name}()`);
        return inert(`${name}()`);
      },
      construct: () => {
        unmodelled.add(`new ${name}`);
        return inert(`new ${name}`) as object;
      },
    });
  const wrap = (obj: Record<string, unknown>, name: string): unknown =>
    new Proxy(obj, {
      get(t, p) {
        if (typeof p === 'symbol' || p in t) {
          const v = t[p as string];
          return v && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype ? wrap(v as Record<string, unknown>, `${name}.${String(p)}`) : v;
        }
        if (p === 'then' || p === '__esModule' || p === 'default') return undefined;
        unmodelled.add(`${name}.${p}`);
        return inert(`${name}.${p}`);
      },
    });
  return wrap(api as unknown as Record<string, unknown>, 'vscode');
}

function fakeContext(vscode: { Uri: { file(p: string): unknown } }, extensionPath: string, scratch: string): unknown {
  const memento = () => { const m = new Map<string, unknown>(); return { get: (k: string, d?: unknown) => (m.has(k) ? m.get(k) : d), update: async (k: string, v: unknown) => void m.set(k, v), keys: () => [...m.keys()], setKeysForSync() {} }; };
  // Inside the parent's temp folder, which it removes: the child exits without cleaning up.
  const store = fs.mkdtempSync(path.join(scratch, 'store-'));
  return {
    subscriptions: [] as { dispose(): unknown }[],
    extensionPath, extensionUri: vscode.Uri.file(extensionPath),
    globalState: memento(), workspaceState: memento(),
    storageUri: vscode.Uri.file(store), globalStorageUri: vscode.Uri.file(store), logUri: vscode.Uri.file(store),
    storagePath: store, globalStoragePath: store, logPath: store,
    extensionMode: 1,
    asAbsolutePath: (rel: string) => path.join(extensionPath, rel),
    secrets: { get: async () => undefined, store: async () => undefined, delete: async () => undefined, onDidChange: () => ({ dispose() {} }) },
    environmentVariableCollection: { replace() {}, append() {}, prepend() {}, get() {}, delete() {}, clear() {}, forEach() {} },
  };
}

function child(bundle: string, folder: string): void {
  const unmodelled = new Set<string>();
  const vscode = fakeVscode(folder, unmodelled) as { Uri: { file(p: string): unknown } };
  // The extension host hands extensions its `vscode` module already loaded; so does this hook, before timing.
  const mod = Module as unknown as { _load(request: string, parent: unknown, isMain: boolean): unknown };
  const load = mod._load;
  mod._load = function (request, parent, isMain) {
    return request === 'vscode' ? vscode : load.call(this, request, parent, isMain);
  };
  const context = fakeContext(vscode, REPO_ROOT, path.dirname(folder));
  const now = () => Number(process.hrtime.bigint()) / 1e6;
  const trace: Trace = { compileMs: 0, self: {}, eager: {}, activateSelfMs: 0 };
  const charge = (into: Record<string, number>, key: string, ms: number) => (into[key] = (into[key] ?? 0) + ms);
  let region = '';
  let regionStart = 0;
  let initsInRegion = 0;
  const open: number[] = [];
  const g = globalThis as { __mlwInit?: (key: string, fn: () => unknown) => unknown; __mlwMark?: (key: string) => void };
  g.__mlwMark = (key) => {
    const t = now();
    if (region) charge(trace.self, region, t - regionStart - initsInRegion);
    else trace.compileMs = t - t0;
    region = key;
    regionStart = t;
    initsInRegion = 0;
  };
  g.__mlwInit = (key, fn) => {
    const start = now();
    open.push(0);
    try {
      return fn();
    } finally {
      const took = now() - start;
      charge(trace.self, key, took - open.pop()!);
      if (open.length) open[open.length - 1] += took;
      else {
        initsInRegion += took;
        charge(trace.eager, `${region} -> ${key}`, took);
      }
    }
  };
  const t0 = now();
  const ext = require(bundle) as { activate?: (c: unknown) => unknown };
  const t1 = now();
  const instrumented = region !== '';
  if (instrumented) g.__mlwMark('(activate)');
  ext.activate?.(context);
  const t2 = now();
  if (instrumented) trace.activateSelfMs = t2 - regionStart - initsInRegion;
  const sample: ChildSample = {
    requireMs: t1 - t0, activateMs: t2 - t1, totalMs: t2 - t0,
    unmodelled: [...unmodelled].sort(),
    ...(instrumented ? { trace } : {}),
  };
  process.stdout.write(JSON.stringify(sample) + '\n');
  // Before the deferred reconcile reaches Docker: only activation is measured.
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------------------
// Parent side.

function runChild(bundle: string, folder: string, nodeArgs: string[] = []): ChildSample {
  const out = execFileSync(process.execPath, [...nodeArgs, __filename, '--child', bundle, folder], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').pop()!) as ChildSample;
}

/**
 * The host bundles exactly as esbuild.mjs makes them (scripts/bundles.mjs: extension, CLI and the Docker client
 * in dist/docker.js, which the extension requires on first use), written to `outdir` instead of dist/.
 */
async function buildBundles(outdir: string, production: boolean): Promise<void> {
  const esbuild = await import('esbuild');
  const shared = pathToFileURL(path.join(REPO_ROOT, 'scripts', 'bundles.mjs')).href;
  const { hostBundle } = (await import(shared)) as { hostBundle(o: { production: boolean }): import('esbuild').BuildOptions };
  await esbuild.build({ ...hostBundle({ production }), outdir, absWorkingDir: REPO_ROOT, sourcemap: false });
}

/**
 * The unminified bundle, timed from inside: esbuild's lazy module wrappers (__commonJS, __esm) report each
 * initialiser (its body, and V8's lazy compile of it), and a mark before every top-level `// <file>` comment
 * (how esbuild opens each inlined file) times the top-level statements of ESM files, which have no wrapper.
 * The first mark also says when node had finished reading and compiling the file.
 */
function instrument(bundle: string): void {
  let text = fs.readFileSync(bundle, 'utf8');
  const helpers: [RegExp, string][] = [
    [/^var __commonJS = \(cb, mod\) => function __require\(\) \{\n.*\n\};$/m,
      'var __commonJS = (cb, mod) => function __require() {\n  if (mod) return mod.exports;\n  const key = __getOwnPropNames(cb)[0];\n  return globalThis.__mlwInit(key, () => ((0, cb[key])((mod = { exports: {} }).exports, mod), mod.exports));\n};'],
    [/^var __esm = \(fn, res\) => function __init\(\) \{\n.*\n\};$/m,
      'var __esm = (fn, res) => function __init() {\n  if (!fn) return res;\n  const key = __getOwnPropNames(fn)[0];\n  return globalThis.__mlwInit(key, () => (res = (0, fn[key])(fn = 0)));\n};'],
  ];
  for (const [re, replacement] of helpers) {
    if (!re.test(text)) throw new Error(`esbuild's helper ${re.source.slice(5, 17)} changed shape; update instrument() in bench/activation.ts`);
    text = text.replace(re, replacement);
  }
  text = text.replace(/^\/\/ (\S+\.[cm]?[jt]sx?)$/gm, (line, file: string) => `globalThis.__mlwMark(${JSON.stringify(file)});\n${line}`);
  if (!text.startsWith('"use strict";\n')) throw new Error('the bundle no longer starts with "use strict"; update instrument()');
  fs.writeFileSync(bundle, text.replace(/^"use strict";\n/, '"use strict";\nglobalThis.__mlwMark("(esbuild helpers)");\n'));
}

/** node_modules/<pkg> (or @scope/pkg), else the first two folders of a src/ path (esbuild names files relative to the repo). */
function groupOf(file: string): string {
  const parts = file.split('/');
  const i = parts.lastIndexOf('node_modules');
  if (i >= 0) return parts[i + 1].startsWith('@') ? `${parts[i + 1]}/${parts[i + 2]}` : parts[i + 1];
  return parts.length > 3 ? parts.slice(0, 3).join('/') : parts.slice(0, -1).join('/') || file;
}

/** Standalone `require(pkg)` of each bundled dependency, in a fresh process: what it costs when loaded at all. */
function requireCost(pkg: string): number {
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    const script = `const t=process.hrtime.bigint();require(${JSON.stringify(pkg)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
    samples.push(Number(execFileSync(process.execPath, ['-e', script], { cwd: REPO_ROOT, encoding: 'utf8' })));
  }
  return median(samples);
}

const f1 = (ms: number) => ms.toFixed(1);

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlw-bench-activation-'));
  try {
    const folder = path.join(tmp, 'workspace');
    fs.mkdirSync(folder);
    const prod = path.join(tmp, 'production', 'extension.js');
    const dev = path.join(tmp, 'development', 'extension.js');
    const empty = path.join(tmp, 'empty.js');
    fs.writeFileSync(empty, '');
    await buildBundles(path.dirname(prod), true);
    await buildBundles(path.dirname(dev), false);
    const load = loadAverage();
    console.log(`bundle: ${(fs.statSync(prod).size / 1e6).toFixed(2)} MB minified (${(fs.statSync(dev).size / 1e6).toFixed(2)} MB unminified; docker.js beside it, not loaded by activation: ${(fs.statSync(path.join(path.dirname(prod), "docker.js")).size / 1e6).toFixed(2)} MB); ${RUNS} fresh node processes each after one warm-up; load average ${load}`);

    runChild(prod, folder);
    runChild(empty, folder);
    const act: ChildSample[] = [];
    const base: ChildSample[] = [];
    for (let i = 0; i < RUNS; i++) {
      act.push(runChild(prod, folder));
      base.push(runChild(empty, folder));
    }
    const unmodelled = [...new Set(act.flatMap((s) => s.unmodelled))];
    if (unmodelled.length) console.log(`note: activation reached vscode members the fake does not model (answered inertly): ${unmodelled.join(', ')}`);
    const total = act.map((s) => s.totalMs);
    const req = act.map((s) => s.requireMs);
    const actv = act.map((s) => s.activateMs);
    const emptyMs = base.map((s) => s.totalMs);
    console.log(`  require(extension.js)     median ${f1(median(req))} ms (p95 ${f1(percentile(req, 95))})`);
    console.log(`  activate(context)         median ${f1(median(actv))} ms (p95 ${f1(percentile(actv, 95))})`);
    console.log(`  require of an empty file  median ${f1(median(emptyMs))} ms (p95 ${f1(percentile(emptyMs, 95))})`);

    // Where the time goes: the unminified twin with its module wrappers timed.
    // Beside the unminified build, so its require('./docker.js') finds that build's Docker bundle.
    const instrumented = path.join(path.dirname(dev), 'extension.instrumented.js');
    fs.copyFileSync(dev, instrumented);
    instrument(instrumented);
    const traced: Trace[] = [];
    for (let i = 0; i < PROFILE_RUNS; i++) traced.push(runChild(instrumented, folder).trace!);
    const tracedTotal = median(traced.map((t) => t.compileMs + Object.values(t.self).reduce((a, b) => a + b, 0) + t.activateSelfMs));
    const medianBy = (perRun: Map<string, number>[]) => {
      const keys = new Set(perRun.flatMap((m) => [...m.keys()]));
      // A key missing from a run took 0 ms in it.
      return [...keys].map((k) => [k, median(perRun.map((m) => m.get(k) ?? 0))] as const).sort((a, b) => b[1] - a[1]);
    };
    const groups = medianBy(traced.map((t) => {
      const m = new Map<string, number>([['(node reads and compiles the bundle)', t.compileMs], ['(activate() itself)', t.activateSelfMs]]);
      for (const [file, ms] of Object.entries(t.self)) m.set(groupOf(file), (m.get(groupOf(file)) ?? 0) + ms);
      return m;
    }));
    console.log(`where the time goes (unminified bundle timed from inside; median of ${PROFILE_RUNS} runs, ${f1(tracedTotal)} ms in all; exclusive ms by package or src/ folder):`);
    for (const [name, ms] of groups.slice(0, 14)) console.log(`  ${name.padEnd(40)} ${f1(ms).padStart(6)} ms  ${((100 * ms) / tracedTotal).toFixed(0).padStart(3)}%`);
    const files = medianBy(traced.map((t) => new Map(Object.entries(t.self).filter(([f]) => !f.includes('node_modules/')))));
    console.log(`slowest src/ files (exclusive ms): ${files.slice(0, 5).map(([f, ms]) => `${f} ${f1(ms)}`).join(', ')}`);
    // Who pulls a package in while the bundle loads: a src/ file's top-level import of it (inclusive ms).
    const eager = medianBy(traced.map((t) => {
      const m = new Map<string, number>();
      for (const [edge, ms] of Object.entries(t.eager)) {
        const [from, to] = edge.split(' -> ');
        if (from !== '(activate)' && !from.includes('node_modules/')) {
          const key = `${from} -> ${to.includes('node_modules/') ? groupOf(to) : to}`;
          m.set(key, (m.get(key) ?? 0) + ms);
        }
      }
      return m;
    })).filter(([, ms]) => ms >= 0.5);
    if (eager.length) {
      console.log('packages initialised by top-level imports in src/ while the bundle loads (inclusive ms):');
      for (const [edge, ms] of eager.slice(0, 10)) console.log(`  ${edge.padEnd(64)} ${f1(ms).padStart(6)} ms`);
    }

    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    const bundled = new Set(fs.readFileSync(dev, 'utf8').split('\n').flatMap((l) => /^\/\/ (\S*node_modules\/\S+)$/.exec(l)?.[1] ?? []).map(groupOf));
    const deps = Object.keys(pkg.dependencies ?? {}).filter((d) => bundled.has(d));
    if (deps.length) {
      console.log('dependencies in the extension bundle, standalone require() from node_modules in a fresh process (median of 5):');
      for (const d of deps) console.log(`  ${d.padEnd(34)} ${f1(requireCost(d)).padStart(6)} ms`);
    }

    const m = median(total);
    console.log(
      `activation: require + activate() median ${f1(m)} ms (p95 ${f1(percentile(total, 95))}), empty-module require ${f1(median(emptyMs))} ms, ` +
      `ratio ${fmtRatio(m / median(emptyMs))}×; target ≤ ${TARGET_MS} ms: ${m <= TARGET_MS ? 'met' : 'NOT met'}; load average ${load} at start, ${loadAverage()} at end`,
    );
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') child(path.resolve(process.argv[3]), process.argv[4]);
else main().catch((err) => {
  console.error(err);
  process.exit(1);
});
