import { RUN_SCHEMA_VERSION, RunRecord } from '../../src/model/runs/run';

/** A completed run record with fixed times and git lineage, for tests of pure view-state builders. */
export function completedRunRecord(id: string, over: Partial<RunRecord> = {}): RunRecord {
  return {
    schemaVersion: RUN_SCHEMA_VERSION,
    id,
    script: 'train.py',
    args: [],
    status: 'Completed',
    createdAt: '2026-11-25T10:00:00.000Z',
    startedAt: '2026-11-25T10:00:01.000Z',
    endedAt: '2026-11-25T10:01:01.000Z',
    git: { commit: 'abcdef1234567890', branch: 'main', dirty: false },
    ...over,
  };
}
