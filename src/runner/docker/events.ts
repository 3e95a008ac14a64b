import type Docker from 'dockerode';
import { RUN_ID_LABEL } from './client';

export interface RunContainerEvent {
  runId: string;
  action: string;
  containerId: string;
}

/**
 * Streams the engine's container events (start, die, oom, destroy) of ML Workbench runs only. Returns a stop
 * function. A missing or vanished engine ends the stream quietly (`onEnd`): callers re-subscribe later.
 */
export async function watchRunContainers(docker: Docker, onEvent: (e: RunContainerEvent) => void, onEnd: () => void): Promise<() => void> {
  const stream = (await docker.getEvents({
    filters: { type: ['container'], label: [RUN_ID_LABEL], event: ['start', 'die', 'oom', 'destroy'] },
  })) as NodeJS.ReadableStream & { destroy?: () => void };
  let pending = '';
  stream.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      try {
        const e = JSON.parse(line) as { Action?: string; Actor?: { ID?: string; Attributes?: Record<string, string> } };
        const runId = e.Actor?.Attributes?.[RUN_ID_LABEL];
        if (runId && e.Action) onEvent({ runId, action: e.Action, containerId: e.Actor?.ID ?? '' });
      } catch {
        // a partial or foreign line: nothing to report
      }
    }
  });
  let ended = false;
  const end = () => {
    if (!ended) {
      ended = true;
      onEnd();
    }
  };
  stream.on('end', end);
  stream.on('close', end);
  stream.on('error', end);
  return () => {
    ended = true;
    stream.destroy?.();
  };
}
