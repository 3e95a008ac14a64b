/**
 * A second, private Docker engine for tests that must stop and start Docker mid-run. The machine's dockerd is
 * shared with other test sessions and is never touched: this one has its own unix socket, pidfile and
 * exec-root (hence its own containerd) under a temp folder, its own data-root, its own bridge interface, no iptables rules,
 * and is stopped by its own pid. Runs reach it with the runner's Docker host option (`--docker-host`,
 * mlw.dockerHost) and must use `network: none`, since it has no bridge network.
 *
 * Loading the 1 GB offline base image into a fresh data-root takes about 35 s, so the data-root is cached
 * under the ML Workbench cache folder (keyed by image) and reused by the next harness; a lock file keeps two
 * harnesses from sharing it (the second falls back to a temp data-root of its own). Whatever containers a
 * test leaves in it are removed before the engine stops: they are all this harness's own.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Docker from 'dockerode';

export interface SecondDockerdOptions {
  /** Image of the shared engine to make available (saved from it once, then cached). */
  image: string;
  /** Containers survive the engine's stop (dockerd --live-restore). */
  liveRestore?: boolean;
}

function cacheDir(): string {
  const base = process.env.MLW_CACHE_DIR || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'ml-workbench');
  fs.mkdirSync(base, { recursive: true });
  return base;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Direct children of a process (dockerd's containerd), from /proc. */
function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Fields after the parenthesised command name: state, then ppid.
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(entry));
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Takes the cached data-root's lock, or returns false when a live harness holds it. */
function takeLock(lockFile: string): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      return true;
    } catch {
      const holder = Number(fs.readFileSync(lockFile, 'utf8').trim());
      if (holder && pidAlive(holder)) return false;
      fs.rmSync(lockFile, { force: true }); // stale: its harness died
    }
  }
  return false;
}

export class SecondDockerd {
  readonly tempDir: string;
  readonly socket: string;
  readonly dataRoot: string;
  private readonly lockFile?: string;
  private child?: ChildProcess;
  private liveRestore: boolean;
  private bridge?: string;

  private constructor(private readonly options: SecondDockerdOptions) {
    this.liveRestore = !!options.liveRestore;
    // Short: containerd's socket lives under the exec-root and unix socket paths are capped at 108 bytes.
    this.tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlw-d2-'));
    this.socket = path.join(this.tempDir, 'docker.sock');
    const cached = path.join(cacheDir(), `dockerd2-${options.image.replace(/[^A-Za-z0-9_.-]/g, '_')}`);
    if (takeLock(`${cached}.lock`)) {
      this.lockFile = `${cached}.lock`;
      this.dataRoot = cached;
    } else {
      this.dataRoot = path.join(this.tempDir, 'data');
    }
  }

  /** Starts a second engine with `image` loaded. */
  static async start(options: SecondDockerdOptions): Promise<SecondDockerd> {
    const d = new SecondDockerd(options);
    try {
      await d.startEngine();
      await d.ensureImage();
      // Left over from a harness that died: this engine is ours alone, so everything in it is ours.
      await d.removeAllContainers();
      return d;
    } catch (err) {
      await d.dispose();
      throw err;
    }
  }

  get host(): string {
    return `unix://${this.socket}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  client(): Docker {
    return new Docker({ socketPath: this.socket });
  }

  /** Starts the engine (again), optionally switching live-restore; resolves once it answers. */
  async startEngine(liveRestore = this.liveRestore): Promise<number> {
    if (this.child) throw new Error('the second dockerd is already running');
    this.liveRestore = liveRestore;
    const exec = path.join(this.tempDir, 'exec');
    fs.mkdirSync(exec, { recursive: true });
    fs.mkdirSync(this.dataRoot, { recursive: true });
    const log = fs.openSync(path.join(this.tempDir, 'dockerd.log'), 'a');
    const t0 = Date.now();
    const child = spawn(
      'dockerd',
      [
        `--host=${this.host}`,
        `--data-root=${this.dataRoot}`,
        `--exec-root=${exec}`,
        `--pidfile=${path.join(this.tempDir, 'dockerd.pid')}`,
        // Never --bridge=none: a dockerd started that way deletes the interface named docker0, which belongs
        // to the shared engine (seen this session: every container of the shared engine lost its network).
        `--bridge=${this.ensureBridge()}`,
        '--iptables=false',
        '--ip-masq=false',
        '--ip-forward=false',
        ...(liveRestore ? ['--live-restore'] : []),
      ],
      { stdio: ['ignore', log, log] },
    );
    fs.closeSync(log);
    this.child = child;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.once('exit', () => {
      if (this.child === child) this.child = undefined;
    });
    const docker = this.client();
    for (;;) {
      if (!this.child) throw new Error(`the second dockerd exited at start; see ${path.join(this.tempDir, 'dockerd.log')}`);
      if (await docker.ping().then(() => true, () => false)) break;
      if (Date.now() - t0 > 30_000) {
        await this.stopEngine();
        throw new Error(`the second dockerd did not answer within 30 s; see ${path.join(this.tempDir, 'dockerd.log')}`);
      }
      await Promise.race([sleep(100), exited]);
    }
    return Date.now() - t0;
  }

  /** Stops the engine gracefully (SIGTERM to its own pid) and waits for it and its containerd to exit. */
  async stopEngine(signal: NodeJS.Signals = 'SIGTERM'): Promise<number> {
    const child = this.child;
    if (!child?.pid) return 0;
    const t0 = Date.now();
    const children = childPids(child.pid);
    const exited = new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
    child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise((resolve) => (timer = setTimeout(() => resolve('timeout'), 40_000)));
    if ((await Promise.race([exited, timeout])) === 'timeout') {
      child.kill('SIGKILL');
      await exited;
    }
    clearTimeout(timer);
    this.child = undefined;
    // Its containerd (a child of dockerd) must be gone before the engine restarts on the same exec-root.
    for (let i = 0; children.some(pidAlive) && i < 100; i++) await sleep(100);
    return Date.now() - t0;
  }

  private async ensureImage(): Promise<void> {
    const docker = this.client();
    if (await docker.getImage(this.options.image).inspect().then(() => true, () => false)) return;
    // docker save of the shared engine's image into this engine: the only way an image gets here (no registry).
    execFileSync('bash', ['-c', 'set -o pipefail; docker save "$1" | DOCKER_HOST="$2" docker load -q', 'save-load', this.options.image, this.host], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, DOCKER_HOST: '' },
    });
  }

  async removeAllContainers(): Promise<void> {
    const docker = this.client();
    for (const c of await docker.listContainers({ all: true })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  }

  /** A bridge interface of this harness's own (dockerd wants a custom --bridge to exist already). */
  private ensureBridge(): string {
    const name = `mlwd2b${process.pid % 100000}`;
    const subnet = `10.232.${process.pid % 250}.1/24`;
    if (!fs.existsSync(`/sys/class/net/${name}`)) {
      execFileSync('ip', ['link', 'add', name, 'type', 'bridge']);
      execFileSync('ip', ['addr', 'add', subnet, 'dev', name]);
      execFileSync('ip', ['link', 'set', name, 'up']);
    }
    this.bridge = name;
    return name;
  }

  /** Removes this engine's containers, stops it, and deletes its temp folder (and releases the cache). */
  async dispose(): Promise<void> {
    if (!this.child) await this.startEngine().catch(() => undefined);
    if (this.child) await this.removeAllContainers().catch(() => undefined);
    await this.stopEngine();
    // Mounts the engine left under its exec-root would make rm fail halfway.
    // dockerd also bind-mounts its data-root onto itself (a private mount), which outlives it.
    const ours = (m: string | undefined) => !!m && (m.startsWith(this.tempDir) || m === this.dataRoot || m.startsWith(`${this.dataRoot}/`));
    const mounts = fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1]).filter(ours);
    for (const m of mounts.reverse()) {
      try {
        execFileSync('umount', ['-l', m], { stdio: 'ignore' });
      } catch {
        /* already gone */
      }
    }
    fs.rmSync(this.tempDir, { recursive: true, force: true });
    if (this.bridge) execFileSync('ip', ['link', 'del', this.bridge], { stdio: 'ignore' });
    if (this.lockFile) fs.rmSync(this.lockFile, { force: true });
  }
}
