import type { RunRecord } from '../../model/runs/run';
import { formatBytes } from '../../model/common/format';
import { describeNoPython } from '../lifecycle/reasons';

/**
 * Docker's refusals when a run's container is created or started ("(HTTP code 400) bad parameter - Range of
 * CPUs is from 0.01 to 2.00…"), said in the run configuration's terms: which key asked for what, and what this
 * engine allows. The patterns are the engine's own messages (moby daemon and runc), matched loosely so a
 * reworded version still falls through to the general form.
 */

interface EngineError {
  statusCode?: number;
  json?: { message?: string } | null;
  message: string;
}

/** The engine's own message, without dockerode's "(HTTP code 400) bad parameter - " prefix. */
function engineMessage(err: EngineError): string {
  const fromJson = typeof err.json?.message === 'string' ? err.json.message : undefined;
  return (fromJson ?? err.message.replace(/^\(HTTP code \d+\) [^-]*- /, '')).trim();
}

function isEngineError(err: Error): err is Error & EngineError {
  return typeof (err as EngineError).statusCode === 'number';
}

/** ` in run configuration "fast"`, or nothing for a run without one. */
function inConfig(run: RunRecord | undefined): string {
  const name = run?.options?.configName;
  return name ? ` in run configuration "${name}"` : '';
}

/** The reason a run failed when Docker refused its container; undefined for errors that are not Docker's refusals. */
export function describeEngineError(err: Error, run: RunRecord | undefined): string | undefined {
  if (!isEngineError(err)) return undefined;
  const message = engineMessage(err);
  const resources = run?.options?.resources ?? {};
  const where = inConfig(run);

  const cpuRange = /Range of CPUs is from ([\d.]+) to ([\d.]+)(?:, as there are only (\d+) CPUs? available)?/i.exec(message);
  if (cpuRange) {
    const [, low, high, count] = cpuRange;
    const has = count ? ` has ${count} CPU${count === '1' ? '' : 's'}:` : '';
    return `resources.cpus is ${resources.cpus ?? '?'}${where}, but this Docker engine${has} resources.cpus must be from ${low} to ${high}.`;
  }
  // A quota below the kernel's 1 ms minimum period share: runc fails writing it (cpus under 0.01).
  if (/cpu\.cfs_quota_us: invalid argument|cpu\.max: invalid argument/.test(message) && resources.cpus !== undefined) {
    return `resources.cpus is ${resources.cpus}${where}, below what this Docker engine can limit a container to: resources.cpus must be at least 0.01.`;
  }
  const memoryMin = /Minimum memory limit allowed is (\d+)\s*MB/i.exec(message);
  if (memoryMin) {
    const asked = resources.memoryBytes === undefined ? '' : ` (${formatBytes(resources.memoryBytes)})`;
    return `resources.memory${asked}${where} is below this Docker engine's minimum: resources.memory must be at least ${memoryMin[1]} MB.`;
  }
  if (/kernel does not support (swap )?memory limit/i.test(message)) {
    return `resources.memory is set${where}, but this Docker engine's kernel cannot limit memory (${message}). Remove resources.memory, or run on an engine with memory cgroups.`;
  }
  const driver = /could not select device driver "([^"]*)" with capabilities/i.exec(message);
  if (driver) {
    return `resources.gpus is ${resources.gpus ?? '?'}${where}, but this Docker engine has no "${driver[1] || 'GPU'}" device driver. Install the NVIDIA Container Toolkit on the Docker host, or remove resources.gpus to run on CPU.`;
  }
  if (/exec: "python": executable file not found in \$PATH/.test(message) && run) return describeNoPython(run);
  const network = /network (\S+) not found/i.exec(message);
  if (network) return `network: this Docker engine has no network "${network[1]}"${where}. Use network: bridge (the default) or network: none.`;
  if (/on network bridge|bridge docker0/i.test(message)) {
    return `Docker could not attach the run to its bridge network (${message}). Set network: none in the run configuration if the script needs no network, or restart Docker so that it recreates its bridge.`;
  }
  const at = err.statusCode !== undefined && err.statusCode < 500 ? 'refused' : 'failed to start';
  return `Docker ${at} the run's container: ${message}`;
}
