import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RunOptions } from '../../src/model/runs/run';
import { RunStore } from '../../src/model/runs/runStore';
import { ExperimentRunner, RunRequest } from '../../src/runner/experimentRunner';
import { RunQueue } from '../../src/runner/runQueue';
import { UNOWNED_ID_START, unownedId } from '../../src/runner/targets/localDocker/runUser';
import { copyForAnotherAccount } from '../harness/copyForAnotherAccount';
import { REPO_ROOT } from '../harness/testWorkspace';
import { RUN_ID_LABEL } from '../../src/runner/docker/client';
import { createTestWorkspace, docker, removeImages, testBaseImage, write } from './support';
import { until } from '../harness/until';

const KIB = 1024;
const MIB = 1024 * KIB;
const GIB = 1024 * MIB;

interface Found {
  rel: string;
  stat: fs.Stats;
}

/** Everything under `dir`, links not followed. */
function walk(dir: string, rel = ''): Found[] {
  return fs.readdirSync(path.join(dir, rel)).flatMap((name) => {
    const child = rel ? `${rel}/${name}` : name;
    const stat = fs.lstatSync(path.join(dir, child));
    return [{ rel: child, stat }, ...(stat.isDirectory() ? walk(dir, child) : [])];
  });
}

function passwdIds(): Set<number> {
  return new Set(fs.readFileSync('/etc/passwd', 'utf8').split('\n').filter(Boolean).map((l) => Number(l.split(':')[2])));
}

describe('Container containment (real Docker)', function () {
  let ws: string;
  let runner: ExperimentRunner;
  const request = (script: string, options?: RunOptions): RunRequest => ({
    workspaceRoot: ws,
    script: path.join(ws, script),
    args: [],
    baseImage: testBaseImage(),
    snapshotMaxBytes: 50 * MIB,
    // None of these needs a network, and none should depend on the engine's bridge.
    options: { network: 'none', ...options },
  });
  before(() => {
    ws = createTestWorkspace('mlw-contain-');
    runner = new ExperimentRunner(docker, new RunStore(ws), { queue: new RunQueue(4) });
  });

  describe('a script that tries to become root through a setuid copy of python in its image', () => {
    let imageTag: string | undefined;
    let hostile: string | undefined;
    after(async () => {
      if (imageTag) await removeImages([imageTag]);
      // Where containment fails, what it leaves is a setuid-root binary: never keep it in /tmp.
      if (hostile) fs.rmSync(hostile, { recursive: true, force: true });
    });

    it('stays unprivileged: no root-owned, setuid or device file reaches the host, during the run or after', async () => {
      // Its own workspace: a Dockerfile decides the environment of every script next to it.
      hostile = createTestWorkspace('mlw-contain-setuid-');
      write(hostile, 'Dockerfile', [
        `FROM ${testBaseImage()}`,
        'USER root',
        'RUN cp "$(readlink -f "$(which python3)")" /usr/local/bin/supy && chmod u+s /usr/local/bin/supy',
      ].join('\n') + '\n');
      write(hostile, 'escalate.py', [
        'import os, shutil, stat, subprocess, sys, time',
        'out = os.environ["MLW_OUTPUTS"]',
        'print("run uid", os.getuid(), "gid", os.getgid(), flush=True)',
        'print(open("/proc/self/status").read().split("CapEff:")[1].split()[0], "effective capabilities", flush=True)',
        // The child runs the setuid copy: today it starts with euid 0 and every capability Docker grants.
        'child = """',
        'import os, shutil, stat, sys',
        'out = sys.argv[1]',
        'try:',
        '    os.setresuid(0, 0, 0); print("setresuid ok: uid", os.getuid())',
        'except OSError as e: print("setresuid refused", e.errno)',
        'shutil.copy("/usr/local/bin/supy", os.path.join(out, "rootpy"))',
        'os.chmod(os.path.join(out, "rootpy"), 0o4755)',
        'try:',
        '    os.chown(os.path.join(out, "rootpy"), 0, 0); os.chmod(os.path.join(out, "rootpy"), 0o4755); print("chown to root ok")',
        'except OSError as e: print("chown to root refused", e.errno)',
        'try:',
        '    os.mknod(os.path.join(out, "kmem"), 0o666 | stat.S_IFCHR, os.makedev(1, 2)); print("mknod ok")',
        'except OSError as e: print("mknod refused", e.errno)',
        'st = os.lstat(os.path.join(out, "rootpy"))',
        'print("rootpy owner", st.st_uid, "mode", oct(st.st_mode & 0o7777))',
        '"""',
        'subprocess.run(["/usr/local/bin/supy", "-c", child, out], check=True)',
        // What the script can do as itself: a setuid file of its own, in a setgid folder.
        'os.mkdir(os.path.join(out, "sub")); os.chmod(os.path.join(out, "sub"), 0o2775)',
        'shutil.copy(sys.executable, os.path.join(out, "sub", "mypy")); os.chmod(os.path.join(out, "sub", "mypy"), 0o6755)',
        'print("ready", flush=True)',
        'for _ in range(600):',
        '    if os.path.exists(os.path.join(out, "release")): break',
        '    time.sleep(0.1)',
        'print("released")',
      ].join('\n') + '\n');
      const hostileRunner = new ExperimentRunner(docker, new RunStore(hostile));
      const handle = await hostileRunner.submit({ ...request('escalate.py'), workspaceRoot: hostile, script: path.join(hostile, 'escalate.py') });
      const paths = hostileRunner.store.paths(handle.id);
      await until('the script to write its files', () => (fs.existsSync(paths.logs) && /^ready$/m.test(fs.readFileSync(paths.logs, 'utf8')) ? true : undefined), 120_000);

      // During the run: nothing root's, no device, and the run's folder closed to every other account.
      const during = walk(paths.outputs);
      assert.deepEqual(during.filter((f) => f.stat.uid === 0 || f.stat.gid === 0).map((f) => f.rel), [], 'no file owned by root while it runs');
      assert.deepEqual(during.filter((f) => f.stat.isCharacterDevice() || f.stat.isBlockDevice()).map((f) => f.rel), [], 'no device node');
      assert.equal(fs.statSync(paths.dir).mode & 0o777, 0o700, 'the run folder is private while the run goes');
      fs.writeFileSync(path.join(paths.outputs, 'release'), '');

      const run = await handle.done;
      imageTag = run.environment?.imageTag;
      assert.equal(run.environment?.kind, 'dockerfile');
      assert.equal(run.status, 'Completed', run.reason);
      const logs = fs.readFileSync(paths.logs, 'utf8');
      assert.match(logs, /^0000000000000000 effective capabilities$/m);
      assert.match(logs, /^setresuid refused 1$/m);
      assert.match(logs, /^chown to root refused 1$/m);
      assert.match(logs, /^mknod refused 1$/m);
      const runUid = Number(/^run uid (\d+) gid (\d+)$/m.exec(logs)![1]);
      assert.match(logs, new RegExp(`^rootpy owner ${runUid} mode 0o4755$`, 'm'), 'the setuid copy kept the run uid');

      // After: every file given back to the account that ran mlw, with no set-id bit and no device left.
      const after = walk(paths.outputs);
      assert.deepEqual(after.map((f) => f.rel).sort(), ['release', 'rootpy', 'sub', 'sub/mypy']);
      assert.deepEqual(after.filter((f) => f.stat.mode & 0o6000).map((f) => `${f.rel} ${(f.stat.mode & 0o7777).toString(8)}`), []);
      const me = process.getuid!();
      assert.deepEqual(after.filter((f) => f.stat.uid !== me).map((f) => `${f.rel} uid ${f.stat.uid}`), []);
      for (const folder of [paths.outputs, paths.tracking]) assert.equal(fs.statSync(folder).uid, me, `${folder} given back`);
      assert.equal(fs.statSync(paths.dir).mode & 0o777, fs.statSync(path.dirname(paths.dir)).mode & 0o777, 'the run folder mode restored');
    });
  });

  it('as root, runs as an id that owns nothing here (not uid 1000) and gives the folders back', async function () {
    if (process.getuid?.() !== 0) this.skip();
    write(ws, 'scripts/whoami.py', 'import os\nprint("uid", os.getuid(), "gid", os.getgid())\nopen(os.environ["MLW_OUTPUTS"] + "/mine.txt", "w").write("x")\nopen(os.environ["MLW_TRACKING_DIR"] + "/extra.txt", "w").write("x")\n');
    const run = await (await runner.submit(request('scripts/whoami.py'))).done;
    assert.equal(run.status, 'Completed', run.reason);
    const [, uid, gid] = /uid (\d+) gid (\d+)/.exec(fs.readFileSync(runner.store.paths(run.id).logs, 'utf8'))!.map(Number);
    assert.notEqual(uid, 1000);
    assert.ok(uid >= UNOWNED_ID_START && !passwdIds().has(uid), `uid ${uid} is nobody's in /etc/passwd`);
    assert.equal(gid, uid);
    const paths = runner.store.paths(run.id);
    for (const file of [paths.outputs, path.join(paths.outputs, 'mine.txt'), paths.tracking, path.join(paths.tracking, 'extra.txt')]) {
      const stat = fs.statSync(file);
      assert.deepEqual([stat.uid, stat.gid], [0, 0], `${file} is root's again`);
    }
  });

  it('gives the folders back when the engine refuses to create or start the run', async function () {
    if (process.getuid?.() !== 0) this.skip();
    // More CPUs than any engine here has: Docker refuses the container.
    const run = await (await runner.submit(request('scripts/hello.py', { resources: { cpus: 4096 } }))).done;
    assert.equal(run.status, 'Failed');
    assert.match(run.reason ?? '', /CPU/);
    const paths = runner.store.paths(run.id);
    for (const folder of [paths.outputs, paths.tracking]) assert.equal(fs.statSync(folder).uid, 0, `${folder} is root's again`);
    assert.equal(fs.statSync(paths.dir).mode & 0o777, fs.statSync(path.dirname(paths.dir)).mode & 0o777, 'the run folder is no longer private');
  });

  it('not as root, runs as the invoking account, whose files they stay, set-id bits stripped', function () {
    // Root here only to become another account for the test, the way a user without privileges runs mlw.
    const socket = '/var/run/docker.sock';
    const account = 4242;
    if (process.getuid?.() !== 0 || !fs.existsSync(socket) || passwdIds().has(account)) this.skip();
    const mine = createTestWorkspace('mlw-contain-user-');
    write(mine, 'mine.py', [
      'import os, shutil, sys',
      'print("uid", os.getuid(), "gid", os.getgid())',
      'dest = os.path.join(os.environ["MLW_OUTPUTS"], "own.bin")',
      'shutil.copy(sys.executable, dest); os.chmod(dest, 0o6755)',
      'print("mode", oct(os.stat(dest).st_mode & 0o7777))',
    ].join('\n') + '\n');
    spawnSync('chown', ['-R', `${account}:${account}`, mine]);
    const checkout = copyForAnotherAccount('bin', 'dist', 'python', 'package.json');
    const r = spawnSync('setpriv', ['--reuid', String(account), '--regid', String(account), `--groups=${fs.statSync(socket).gid}`, path.join(checkout, 'bin', 'mlw'), 'run', 'mine.py'], {
      cwd: mine,
      encoding: 'utf8',
      env: { ...process.env, HOME: mine, MLW_BASE_IMAGE: '' },
    });
    fs.rmSync(checkout, { recursive: true, force: true });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^uid ${account} gid ${account}$`, 'm'));
    assert.match(r.stdout, /^mode 0o6755$/m);
    const runsDir = path.join(mine, '.mlw', 'runs');
    const [runDir] = fs.readdirSync(runsDir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => path.join(runsDir, d.name));
    const own = fs.statSync(path.join(runDir, 'outputs', 'own.bin'));
    assert.deepEqual([own.uid, own.gid, (own.mode & 0o7777).toString(8)], [account, account, '755']);
    assert.equal(fs.statSync(runDir).mode & 0o777, fs.statSync(runsDir).mode & 0o777);
  });

  it('picks the unowned id past accounts, groups and subordinate-id ranges', () => {
    const empty = { passwd: '', group: '', subuid: '', subgid: '' };
    assert.equal(unownedId(empty), UNOWNED_ID_START);
    assert.equal(unownedId({ ...empty, passwd: `build:x:${UNOWNED_ID_START}:100::/home/build:/bin/sh\n`, group: `g:x:${UNOWNED_ID_START + 1}:\n` }), UNOWNED_ID_START + 2);
    // Past alice's range, which ends at 131072, a multiple of 65536 (16-bit calls would see root).
    assert.equal(unownedId({ ...empty, subuid: 'alice:65536:65536\n' }), 131073);
  });

  describe('limits and caps', () => {
    it('applies and records the default limits: half the engine memory, 4096 pids, no capability, no new privileges', async () => {
      write(ws, 'scripts/limits.py', [
        'import os',
        'def first(*files):',
        '    for f in files:',
        '        if os.path.exists(f): return open(f).read().strip()',
        'print("memory", first("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"))',
        'print("pids", first("/sys/fs/cgroup/pids.max", "/sys/fs/cgroup/pids/pids.max"))',
        'status = open("/proc/self/status").read()',
        'print("NoNewPrivs", status.split("NoNewPrivs:")[1].split()[0])',
        'print("CapBnd", status.split("CapBnd:")[1].split()[0])',
      ].join('\n') + '\n');
      const run = await (await runner.submit(request('scripts/limits.py'))).done;
      assert.equal(run.status, 'Completed', run.reason);
      const engineMemory = ((await docker.info()) as { MemTotal: number }).MemTotal;
      assert.deepEqual(run.limits, {
        memoryBytes: Math.floor(engineMemory / 2),
        pids: 4096,
        outputsBytes: 10 * GIB,
        logsBytes: 100 * MIB,
        trackingBytes: 100 * MIB,
        defaulted: ['resources.memory', 'resources.pids', 'resources.outputs', 'resources.logs', 'resources.tracking'],
      });
      const logs = fs.readFileSync(runner.store.paths(run.id).logs, 'utf8');
      // The kernel rounds a memory limit down to whole pages.
      assert.equal(Number(/^memory (\d+)$/m.exec(logs)?.[1]), Math.floor(engineMemory / 2 / 4096) * 4096);
      assert.match(logs, /^pids 4096$/m);
      assert.match(logs, /^NoNewPrivs 1$/m);
      assert.match(logs, /^CapBnd 0000000000000000$/m);
    });

    it('gives no disk beyond the caps: the image is read-only, scratch is a tmpfs, the engine log is bounded', async () => {
      write(ws, 'scripts/disk.py', [
        'import os, time',
        'for target in ["/usr/local/leak.bin", "/leak.bin"]:',
        '    try:',
        '        open(target, "wb").write(b"x")',
        '        print("wrote", target)',
        '    except OSError as e:',
        '        print("refused", target, e.strerror)',
        'open("/tmp/scratch.bin", "wb").write(b"y" * (5 * 1024 * 1024))',
        'print("scratch", os.path.getsize("/tmp/scratch.bin"))',
        'print("tmp fs", [l.split()[2] for l in open("/proc/mounts") if l.split()[1] == "/tmp"])',
        'time.sleep(4)',
      ].join('\n') + '\n');
      const handle = await runner.submit(request('scripts/disk.py'));
      const container = await until('the run container', async () => (await docker.listContainers({ filters: { label: [`${RUN_ID_LABEL}=${handle.id}`] } }))[0], 30_000);
      const logConfig = (await docker.getContainer(container.Id).inspect()).HostConfig.LogConfig;
      const run = await handle.done;
      assert.equal(run.status, 'Completed', run.reason);
      const logs = fs.readFileSync(runner.store.paths(run.id).logs, 'utf8');
      assert.match(logs, /^refused \/usr\/local\/leak\.bin Read-only file system$/m);
      assert.match(logs, /^refused \/leak\.bin Read-only file system$/m);
      assert.match(logs, /^scratch 5242880$/m);
      assert.match(logs, /^tmp fs \['tmpfs'\]$/m);
      assert.deepEqual(logConfig, { Type: 'json-file', Config: { 'max-file': '1', 'max-size': String(2 * 100 * MIB) } });
    });

    it('resources.pids caps processes and threads', async () => {
      write(ws, 'scripts/threads.py', [
        'import threading, time',
        'started = 0',
        'try:',
        '    for _ in range(200):',
        '        threading.Thread(target=time.sleep, args=(5,), daemon=True).start(); started += 1',
        'except RuntimeError as e:',
        '    print("refused:", e)',
        'print("threads", started)',
      ].join('\n') + '\n');
      const run = await (await runner.submit(request('scripts/threads.py', { configName: 'few', resources: { pids: 16 } }))).done;
      assert.equal(run.status, 'Completed', run.reason);
      assert.equal(run.limits?.pids, 16);
      const logs = fs.readFileSync(runner.store.paths(run.id).logs, 'utf8');
      assert.match(logs, /refused: can't start new thread/);
      assert.ok(Number(/threads (\d+)/.exec(logs)![1]) < 16);
    });

    it('stops a run whose outputs pass resources.outputs, naming the cap and the key to raise', async () => {
      // It ignores the polite stop, and would fill the disk given the 5 s a cancel grants.
      write(ws, 'scripts/filler.py', [
        'import os, signal, time',
        'signal.signal(signal.SIGTERM, signal.SIG_IGN)',
        'with open(os.path.join(os.environ["MLW_OUTPUTS"], "fill.bin"), "wb") as f:',
        '    for _ in range(4): f.write(b"x" * (1024 * 1024)); f.flush()',
        'print("filled", flush=True)',
        'time.sleep(60)',
      ].join('\n') + '\n');
      const run = await (await runner.submit(request('scripts/filler.py', { configName: 'tiny', resources: { outputsBytes: MIB } }))).done;
      assert.equal(run.status, 'Failed');
      assert.match(run.reason ?? '', /^The outputs folder passed the 1 MiB cap of resources\.outputs \(it held [\d.]+ MiB or more\), so the run was stopped\. Raise resources\.outputs in run configuration "tiny" to allow more\.$/);
      assert.equal(run.exitCode, 137, 'killed');
      const ranMs = Date.parse(run.endedAt!) - Date.parse(run.startedAt!);
      assert.ok(ranMs < 5000, `killed at once, not after a stop's grace period (${ranMs} ms)`);
    });

    it('counts a sparse file at its apparent size, so it fails the run instead of becoming gigabytes later', async () => {
      write(ws, 'scripts/sparse.py', 'import os\nwith open(os.path.join(os.environ["MLW_OUTPUTS"], "sparse.bin"), "wb") as f:\n    f.truncate(64 * 1024 ** 3)\n');
      const run = await (await runner.submit(request('scripts/sparse.py'))).done;
      assert.equal(run.status, 'Failed');
      assert.match(run.reason ?? '', /^The outputs folder passed the 10 GiB cap of resources\.outputs \(it held 64 GiB or more\), so the run (failed|was stopped)\. Raise resources\.outputs in a run configuration to allow more\.$/);
      const stat = fs.statSync(path.join(runner.store.paths(run.id).outputs, 'sparse.bin'));
      assert.ok(stat.blocks * 512 < MIB, 'still sparse on the host');
    });

    it('cuts the log at resources.logs while it streams, says so in the log, and fails the run', async () => {
      write(ws, 'scripts/chatty.py', 'import time\nfor i in range(20000):\n    print(f"line {i:06d} " + "x" * 80)\ntime.sleep(60)\n');
      let shown = 0;
      const run = await (await runner.submit(request('scripts/chatty.py', { configName: 'tiny', resources: { logsBytes: 64 * KIB } }), {
        onOutput: (_id, _stream, chunk) => (shown += chunk.length),
      })).done;
      assert.equal(run.status, 'Failed');
      assert.equal(run.reason, 'The output the script printed passed the 64 KiB cap of resources.logs, so the run was stopped. Raise resources.logs in run configuration "tiny" to allow more.');
      const logs = fs.readFileSync(runner.store.paths(run.id).logs, 'utf8');
      const note = '\n[mlw] The log stops here: the script printed more than the 64 KiB cap of resources.logs.\n';
      assert.ok(logs.endsWith(note), logs.slice(-200));
      assert.equal(Buffer.byteLength(logs), 64 * KIB + note.length);
      assert.equal(shown, 64 * KIB + note.length, 'what is shown live is cut the same way');
    });

    it('stops a run whose tracking passes resources.tracking', async () => {
      write(ws, 'scripts/tracker.py', 'import time, mlw\nfor i in range(2000):\n    mlw.log_metric("loss", 1.0 / (i + 1), step=i)\ntime.sleep(60)\n');
      const run = await (await runner.submit(request('scripts/tracker.py', { configName: 'tiny', resources: { trackingBytes: 16 * KIB } }))).done;
      assert.equal(run.status, 'Failed');
      assert.match(run.reason ?? '', /^The tracking folder \(metrics, params, tags\) passed the 16 KiB cap of resources\.tracking \(it held [\d.]+ KiB or more\), so the run was stopped\. Raise resources\.tracking in run configuration "tiny" to allow more\.$/);
    });

    it('mlw run with a run configuration shows the cap reason and the cut log', () => {
      write(ws, '.mlw/runconfigs/quiet.yaml', 'script: scripts/chatty.py\nnetwork: none\nresources:\n  logs: 8k\n');
      const r = spawnSync(path.join(REPO_ROOT, 'bin', 'mlw'), ['run', '--config', 'quiet'], { cwd: ws, encoding: 'utf8', env: { ...process.env, MLW_BASE_IMAGE: '' } });
      assert.notEqual(r.status, 0);
      assert.ok(r.stdout.length < 9 * KIB, `stdout cut at the cap (${r.stdout.length} chars)`);
      assert.match(r.stdout + r.stderr, /\[mlw\] The log stops here: the script printed more than the 8 KiB cap of resources\.logs\./);
      assert.match(r.stderr, /The output the script printed passed the 8 KiB cap of resources\.logs, so the run was stopped\. Raise resources\.logs in run configuration "quiet" to allow more\./);
    });
  });
});
