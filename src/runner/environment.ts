import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Docker from 'dockerode';
import { UserFacingError } from '../model/errors';
import { RunEnvironment } from '../model/run';
import { inspectImage } from './docker';

export const ENV_IMAGE_REPO = 'mlw-env';
export const ENV_HASH_LABEL = 'mlw.env-hash';

export interface EnvironmentRequest {
  baseImage: string;
  /** Folder of the snapshot (or workspace) in which environment files are looked up. */
  root: string;
  /** Script folder relative to root ('' for the root); its requirements.txt wins over the root's. */
  scriptDir: string;
  /** Folder where the Docker build context is written (kept with the run as a record of what was built). */
  contextDir: string;
  onBuildOutput: (text: string) => void;
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

export class ImageBuildError extends Error {}

function findRequirements(root: string, scriptDir: string): string | undefined {
  const candidates = [scriptDir ? `${scriptDir}/requirements.txt` : undefined, 'requirements.txt'];
  return candidates.find((rel): rel is string => !!rel && fs.existsSync(path.join(root, rel)));
}

/**
 * Resolves the image a run uses. Images are content-addressed: the tag is a hash of the base image id and
 * the environment file, so an unchanged environment is never rebuilt. Concurrent requests for the same
 * environment share one build.
 */
export class EnvironmentResolver {
  private readonly inFlight = new Map<string, Promise<Docker.ImageInspectInfo>>();
  /** Number of image builds this resolver started; tests use it to prove cache hits. */
  buildCount = 0;

  constructor(private readonly docker: Docker) {}

  async resolve(req: EnvironmentRequest): Promise<RunEnvironment> {
    const base = await inspectImage(this.docker, req.baseImage);
    if (!base) throw baseImageMissing(req.baseImage);

    const requirementsRel = findRequirements(req.root, req.scriptDir);
    if (!requirementsRel) {
      return { kind: 'base', baseImage: req.baseImage, imageTag: req.baseImage, imageId: base.Id, built: false };
    }
    const requirements = await fs.promises.readFile(path.join(req.root, requirementsRel));
    const hash = createHash('sha256').update(base.Id).update('\0requirements.txt\0').update(requirements).digest('hex');
    const tag = `${ENV_IMAGE_REPO}:${hash.slice(0, 16)}`;

    const cached = await inspectImage(this.docker, tag);
    if (cached) {
      req.onBuildOutput(`Environment image ${tag} is up to date (cache hit).\n`);
      return { kind: 'requirements', baseImage: req.baseImage, file: requirementsRel, imageTag: tag, imageId: cached.Id, built: false };
    }

    let build = this.inFlight.get(tag);
    const startedHere = !build;
    if (!build) {
      build = this.build(req, tag, hash, requirements).finally(() => this.inFlight.delete(tag));
      this.inFlight.set(tag, build);
    } else {
      req.onBuildOutput(`Waiting for another run's build of ${tag}…\n`);
    }
    const image = await build;
    return { kind: 'requirements', baseImage: req.baseImage, file: requirementsRel, imageTag: tag, imageId: image.Id, built: startedHere };
  }

  private async build(req: EnvironmentRequest, tag: string, hash: string, requirements: Buffer): Promise<Docker.ImageInspectInfo> {
    this.buildCount += 1;
    await fs.promises.mkdir(req.contextDir, { recursive: true });
    await fs.promises.writeFile(path.join(req.contextDir, 'requirements.txt'), requirements);
    await fs.promises.writeFile(
      path.join(req.contextDir, 'Dockerfile'),
      [
        `FROM ${req.baseImage}`,
        // Debian-based images mark their Python as externally managed; a run's image is ours to change.
        'ENV PIP_BREAK_SYSTEM_PACKAGES=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1',
        'COPY requirements.txt /tmp/mlw/requirements.txt',
        'RUN python -m pip install -r /tmp/mlw/requirements.txt',
        '',
      ].join('\n'),
    );
    req.onBuildOutput(`Building environment image ${tag} from ${req.baseImage} + requirements.txt\n`);
    const stream = await this.docker.buildImage(
      { context: req.contextDir, src: ['Dockerfile', 'requirements.txt'] },
      { t: tag, rm: true, forcerm: true, labels: { [ENV_HASH_LABEL]: hash } },
    );
    await new Promise<void>((resolve, reject) => {
      let failure: string | undefined;
      this.docker.modem.followProgress(
        stream,
        (err: Error | null) => {
          if (err) reject(new ImageBuildError(err.message));
          else if (failure) reject(new ImageBuildError(failure));
          else resolve();
        },
        (event: { stream?: string; error?: string; status?: string }) => {
          if (event.stream) req.onBuildOutput(event.stream);
          if (event.status) req.onBuildOutput(`${event.status}\n`);
          if (event.error) {
            failure = event.error.trim();
            req.onBuildOutput(`ERROR: ${failure}\n`);
          }
        },
      );
    });
    const image = await inspectImage(this.docker, tag);
    if (!image) throw new ImageBuildError(`the build finished but ${tag} is not in the engine`);
    return image;
  }
}
