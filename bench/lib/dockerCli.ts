import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

/**
 * The `docker` CLI, used for baselines: it is what a user would type instead of ML Workbench, so its
 * own start-up cost belongs in the baseline.
 */

/** Runs `docker ...args` to completion; resolves with trimmed stdout, rejects with stderr on failure. */
export function dockerCli(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8').trim());
      else reject(new Error(`docker ${args.join(' ')} exited with ${code}: ${Buffer.concat(err).toString('utf8').trim()}`));
    });
  });
}

/** Spawns `docker ...args` and resolves, once it has exited, with ms from spawn to its first stdout byte. */
export function timeToFirstStdoutByte(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let first: number | undefined;
    const child = spawn('docker', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const err: Buffer[] = [];
    child.stdout.on('data', () => {
      first ??= performance.now() - t0;
    });
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`docker ${args.join(' ')} exited with ${code}: ${Buffer.concat(err).toString('utf8').trim()}`));
      else if (first === undefined) reject(new Error(`docker ${args.join(' ')} printed nothing on stdout`));
      else resolve(first);
    });
  });
}
