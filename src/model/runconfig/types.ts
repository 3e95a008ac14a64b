/** The parsed shape of a run configuration and the error that refuses one. */
import { UserFacingError } from '../common/errors';
import type { RunResources } from '../runs/run';

export interface RunConfig {
  /** File name without extension. */
  name: string;
  /** Absolute path of the file it came from ('' for the built-in default). */
  file: string;
  /** Forward slashes, workspace-relative; absent: the editor's script. */
  script?: string;
  args: string[];
  env: Record<string, string>;
  /** Use exactly this image (no environment build). */
  image?: string;
  target: 'local';
  /** gpus is never 0: "no GPUs" is always represented by its absence. */
  resources: RunResources;
  timeoutSeconds?: number;
  network: 'none' | 'bridge';
}

/** `${file}: ${key}: ${reason}`. The position (1-based), when known, lets an editor point at the offending text. */
export class RunConfigError extends UserFacingError {
  constructor(
    readonly file: string,
    readonly key: string,
    readonly reason: string,
    readonly position?: { line: number; column: number },
  ) {
    super(`${file}: ${key}: ${reason}`);
    this.name = 'RunConfigError';
  }
}

export function defaultRunConfig(): RunConfig {
  return { name: 'default', file: '', args: [], env: {}, target: 'local', resources: {}, network: 'bridge' };
}
