import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { UserFacingError } from '../../model/common/errors';
import { RunEnvironment } from '../../model/runs/run';
import { isInsideFolder } from '../../model/common/containment';
import { walkTree } from '../fileWalker';
import { ImageBuildError } from '../targets/computeTarget';
import { stripTerminalEscapes } from '../../model/common/terminalText';
import { ENV_HASH_LABEL, ENV_IMAGE_REPO, inspectImage } from './client';
import { BuildOutputTail, explainBuildFailure } from './buildErrors';
import { holdImage } from './imageHolds';

export { ImageBuildError };

export interface EnvironmentRequest {
  baseImage: string;
  /** An explicit image (run configuration `image:`): used as is, nothing is built. */
  image?: string;
  /** The run's snapshot: environment files are read from it, and it is the build context of a Dockerfile. */
  root: string;
  /** The workspace itself, for `.mlw/Dockerfile` (the snapshot never holds `.mlw`). */
  workspaceRoot: string;
  /** Script folder relative to root ('' for the root); its environment files win over the root's. */
  scriptDir: string;
  /** Folder where a generated Docker build context is written (kept with the run as a record). */
  contextDir: string;
  onBuildOutput: (text: string) => void;
}

export type EnvironmentKind = RunEnvironment['kind'];

/** Which kind of environment a folder asks for, first match wins; with the file that decided it. */
export function detectEnvironment(
  root: string,
  workspaceRoot: string,
  scriptDir: string,
  image?: string,
): { kind: EnvironmentKind; file?: string } {
  if (image) return { kind: 'image' };
  if (fs.existsSync(path.join(root, 'Dockerfile'))) return { kind: 'dockerfile', file: 'Dockerfile' };
  if (fs.existsSync(path.join(workspaceRoot, '.mlw', 'Dockerfile'))) return { kind: 'dockerfile', file: '.mlw/Dockerfile' };
  const near = (name: string) =>
    [scriptDir ? `${scriptDir}/${name}` : undefined, name].find((rel): rel is string => !!rel && fs.existsSync(path.join(root, rel)));
  const conda = near('environment.yml') ?? near('environment.yaml');
  if (conda) return { kind: 'conda', file: conda };
  const requirements = near('requirements.txt');
  if (requirements) return { kind: 'requirements', file: requirements };
  return { kind: 'base' };
}

/** Whether a kind starts from mlw.baseImage (so that image must exist). */
export function needsBaseImage(kind: EnvironmentKind): boolean {
  return kind === 'conda' || kind === 'requirements' || kind === 'base';
}

/** Says how to get a base image that is missing locally. */
export function baseImageMissing(baseImage: string): UserFacingError {
  return new UserFacingError(
    `Base image "${baseImage}" is not available in the local Docker engine. Pull it with "docker pull ${baseImage}", ` +
      `or, offline, build a Debian-based Python image with "npm run base-image" in the ML Workbench repository ` +
      `and set mlw.baseImage to the name it prints.`,
    { label: 'Open Setting', command: 'workbench.action.openSettings', args: ['mlw.baseImage'] },
  );
}

export function imageMissing(image: string, where: string): UserFacingError {
  return new UserFacingError(`Image "${image}" (${where}) is not available in the local Docker engine. Pull it with "docker pull ${image}" or build it, then try again.`);
}

/** Source paths of COPY/ADD instructions (not --from copies between stages); '*' when they cannot be listed. */
export function dockerfileSources(dockerfile: string): string[] {
  const sources: string[] = [];
  const joined = dockerfile.replace(/\\\r?\n/g, ' ');
  for (const line of joined.split(/\r?\n/)) {
    const m = /^\s*(COPY|ADD)\s+(.*)$/i.exec(line);
    if (!m) continue;
    let parts: string[];
    const rest = m[2].trim();
    const flags = rest.match(/^(--\S+\s+)*/)?.[0] ?? '';
    if (/--from=/.test(flags)) continue;
    const args = rest.slice(flags.length).trim();
    try {
      parts = args.startsWith('[') ? (JSON.parse(args) as string[]) : args.split(/\s+/);
    } catch {
      return ['*'];
    }
    for (const src of parts.slice(0, -1)) {
      if (/[*?[]|^\w+:\/\//.test(src)) return ['*'];
      sources.push(path.posix.normalize(src.replace(/^\/+/, '')).replace(/\/+$/, '') || '.');
    }
  }
  return sources;
}

/**
 * The files and links under `rel` in the snapshot (`rel` itself when it is one), for hashing and for the build
 * context. Walked without following links: a COPY source that is itself a link is followed once, when it stays
 * in the snapshot, because Docker's COPY does so too; links below it are hashed as links.
 */
async function filesUnder(root: string, rel: string): Promise<string[]> {
  const abs = rel === '' || rel === '.' ? root : path.join(root, rel);
  const st = await fs.promises.lstat(abs).catch(() => undefined);
  if (!st) return [];
  if (st.isSymbolicLink()) {
    const [rootReal, real] = await Promise.all([fs.promises.realpath(root), fs.promises.realpath(abs).catch(() => undefined)]);
    const target = real !== undefined && isInsideFolder(rootReal, real) ? path.relative(rootReal, real).split(path.sep).join('/') : undefined;
    const targetStat = target ? await fs.promises.lstat(real!) : undefined;
    return [rel, ...(target && targetStat?.isDirectory() ? await filesUnder(root, target) : target ? [target] : [])];
  }
  if (st.isFile()) return [rel];
  if (!st.isDirectory()) return [];
  const out: string[] = [];
  const prefix = rel === '' || rel === '.' ? '' : `${rel}/`;
  await walkTree(abs, { entry: (e) => void ((e.kind === 'file' || e.kind === 'symlink') && out.push(prefix + e.rel)) }, { what: "The run's snapshot" });
  return out;
}

/** Hashes files by content and links by their target text (never followed: a link may lead anywhere). */
async function hashFiles(hash: ReturnType<typeof createHash>, root: string, rels: string[]): Promise<void> {
  for (const rel of [...new Set(rels)].sort()) {
    const abs = path.join(root, rel);
    const st = await fs.promises.lstat(abs);
    hash.update(`\0${rel}\0`);
    hash.update(st.isSymbolicLink() ? `link:${await fs.promises.readlink(abs)}` : await fs.promises.readFile(abs));
  }
}

/**
 * Resolves the image a run uses, in order: explicit image → project Dockerfile (or .mlw/Dockerfile) →
 * environment.yml (conda) → requirements.txt → the base image alone. Built images are content-addressed:
 * the tag hashes the base image id and every environment file, so an unchanged environment is never
 * rebuilt. Concurrent requests for the same environment share one build.
 */
export class EnvironmentResolver {
  private readonly inFlight = new Map<string, Promise<Docker.ImageInspectInfo>>();
  /** Number of image builds this resolver started; tests use it to prove cache hits. */
  buildCount = 0;

  constructor(private readonly docker: Docker) {}

  async resolve(req: EnvironmentRequest): Promise<RunEnvironment> {
    const detected = detectEnvironment(req.root, req.workspaceRoot, req.scriptDir, req.image);
    if (detected.kind === 'image') {
      const image = await inspectImage(this.docker, req.image!);
      if (!image) throw imageMissing(req.image!, 'the run configuration\'s "image"');
      return { kind: 'image', imageTag: req.image!, imageId: image.Id, built: false };
    }
    if (detected.kind === 'dockerfile') return this.resolveDockerfile(req, detected.file!);

    const base = await inspectImage(this.docker, req.baseImage);
    if (!base) throw baseImageMissing(req.baseImage);
    if (detected.kind === 'base') {
      return { kind: 'base', baseImage: req.baseImage, imageTag: req.baseImage, imageId: base.Id, built: false };
    }
    const file = detected.file!;
    const content = fs.readFileSync(path.join(req.root, file));
    const hash = createHash('sha256').update(base.Id).update(`\0${detected.kind}\0`).update(content).digest('hex');
    const env = { kind: detected.kind, baseImage: req.baseImage, file };
    return this.cachedOrBuilt(req, hash, env, async (tag) => {
      const dockerfile = detected.kind === 'conda' ? await this.condaDockerfile(req.baseImage, req) : this.pipDockerfile(req.baseImage);
      await fs.promises.mkdir(req.contextDir, { recursive: true });
      const name = detected.kind === 'conda' ? 'environment.yml' : 'requirements.txt';
      await fs.promises.writeFile(path.join(req.contextDir, name), content);
      await fs.promises.writeFile(path.join(req.contextDir, 'Dockerfile'), dockerfile);
      req.onBuildOutput(`Building environment image ${tag} from ${req.baseImage} + ${file}\n`);
      return this.build({ context: req.contextDir, src: ['Dockerfile', name] }, { t: tag }, hash, req);
    });
  }

  private pipDockerfile(base: string): string {
    return [
      `FROM ${base}`,
      // Debian-based images mark their Python as externally managed; a run's image is ours to change.
      'ENV PIP_BREAK_SYSTEM_PACKAGES=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1',
      // The dependency layer is the only one that changes with requirements.txt.
      'COPY requirements.txt /tmp/mlw/requirements.txt',
      'RUN python -m pip install -r /tmp/mlw/requirements.txt',
      '',
    ].join('\n');
  }

  private async condaDockerfile(base: string, req: EnvironmentRequest): Promise<string> {
    const tool = (await this.probe(base, 'command -v micromamba || command -v mamba || command -v conda || true')).trim();
    if (!tool) {
      throw new UserFacingError(
        `environment.yml needs a conda base image, but "${base}" (mlw.baseImage) has no conda, mamba or micromamba. ` +
          `Set mlw.baseImage to one that does (for example continuumio/miniconda3 or mambaorg/micromamba), ` +
          `or describe the environment with requirements.txt instead.`,
      );
    }
    req.onBuildOutput(`Using ${tool} from ${base}\n`);
    const install = path.posix.basename(tool) === 'micromamba'
      ? `${tool} install -y -n base -f /tmp/mlw/environment.yml && ${tool} clean -a -y`
      : `${tool} env update -n base -f /tmp/mlw/environment.yml && ${tool} clean -a -y`;
    return [`FROM ${base}`, 'COPY environment.yml /tmp/mlw/environment.yml', `RUN ${install}`, ''].join('\n');
  }

  private async resolveDockerfile(req: EnvironmentRequest, file: string): Promise<RunEnvironment> {
    // .mlw/Dockerfile lives outside the snapshot; put a copy in it so the build context holds it.
    if (file === '.mlw/Dockerfile') {
      await fs.promises.mkdir(path.join(req.root, '.mlw'), { recursive: true });
      await fs.promises.copyFile(path.join(req.workspaceRoot, '.mlw', 'Dockerfile'), path.join(req.root, '.mlw', 'Dockerfile'));
    }
    const text = fs.readFileSync(path.join(req.root, file), 'utf8');
    const sources = dockerfileSources(text);
    const allFiles = await filesUnder(req.root, '');
    const inputs = sources.includes('*') ? allFiles : (await Promise.all(sources.map((s) => filesUnder(req.root, s)))).flat();
    const hash = createHash('sha256').update('dockerfile\0').update(text);
    if (fs.existsSync(path.join(req.root, '.dockerignore'))) inputs.push('.dockerignore');
    await hashFiles(hash, req.root, inputs);
    const digest = hash.digest('hex');
    return this.cachedOrBuilt(req, digest, { kind: 'dockerfile', file }, (tag) => {
      req.onBuildOutput(`Building environment image ${tag} from ${file}\n`);
      return this.build({ context: req.root, src: allFiles }, { t: tag, dockerfile: file }, digest, req);
    });
  }

  private async cachedOrBuilt(
    req: EnvironmentRequest,
    hash: string,
    env: Omit<RunEnvironment, 'imageTag' | 'imageId' | 'built'>,
    build: (tag: string) => Promise<Docker.ImageInspectInfo>,
  ): Promise<RunEnvironment> {
    const tag = `${ENV_IMAGE_REPO}:${hash.slice(0, 16)}`;
    // This workspace holds the image (a tag of its own), so Clean Up elsewhere keeps it; best effort: without
    // the hold, Clean Up keeps the image anyway for want of a record.
    const hold = (imageId: string) => holdImage(this.docker, imageId, tag, req.workspaceRoot).catch(() => undefined);
    const cached = await inspectImage(this.docker, tag);
    if (cached) {
      req.onBuildOutput(`Environment image ${tag} is up to date (cache hit).\n`);
      await hold(cached.Id);
      return { ...env, imageTag: tag, imageId: cached.Id, built: false };
    }
    let pending = this.inFlight.get(tag);
    const startedHere = !pending;
    if (!pending) {
      this.buildCount += 1;
      pending = build(tag).finally(() => this.inFlight.delete(tag));
      this.inFlight.set(tag, pending);
    } else {
      req.onBuildOutput(`Waiting for another run's build of ${tag}…\n`);
    }
    const image = await pending;
    await hold(image.Id);
    return { ...env, imageTag: tag, imageId: image.Id, built: startedHere };
  }

  private async build(
    context: { context: string; src: string[] },
    options: { t: string; dockerfile?: string },
    hash: string,
    req: EnvironmentRequest,
  ): Promise<Docker.ImageInspectInfo> {
    const stream = await this.docker.buildImage(context, { ...options, rm: true, forcerm: true, labels: { [ENV_HASH_LABEL]: hash } });
    // The cause of a failure is in the output above Docker's last line; the end of it is kept to say it.
    const tail = new BuildOutputTail();
    // Build steps write what they like (colours, Docker's own stderr markers): build.txt and the CLI get plain text.
    const output = (text: string) => {
      const plain = stripTerminalEscapes(text);
      tail.push(plain);
      req.onBuildOutput(plain);
    };
    await new Promise<void>((resolve, reject) => {
      let failure: string | undefined;
      this.docker.modem.followProgress(
        stream,
        (err: Error | null) => {
          if (err) reject(new ImageBuildError(explainBuildFailure(err.message, tail.lines())));
          else if (failure) reject(new ImageBuildError(explainBuildFailure(failure, tail.lines())));
          else resolve();
        },
        (event: { stream?: string; error?: string; status?: string }) => {
          if (event.stream) output(event.stream);
          if (event.status) output(`${event.status}\n`);
          if (event.error) {
            failure = stripTerminalEscapes(event.error).trim();
            output(`ERROR: ${failure}\n`);
          }
        },
      );
    });
    const image = await inspectImage(this.docker, options.t);
    if (!image) throw new ImageBuildError(`the build finished but ${options.t} is not in the engine`);
    return image;
  }

  /** Runs a shell snippet in a throwaway container of `image` and returns its stdout. */
  private async probe(image: string, script: string): Promise<string> {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    // Two streams: dockerode demultiplexes stdout from stderr only when given both.
    const [, container] = (await this.docker.run(image, ['sh', '-c', script], [out, new PassThrough()], { Tty: false, HostConfig: { NetworkMode: 'none' } })) as [unknown, Docker.Container];
    await container.remove({ force: true }).catch(() => undefined);
    return Buffer.concat(chunks).toString('utf8');
  }
}
