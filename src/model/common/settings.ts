/**
 * The `mlw.*` settings, their defaults and how raw values are cleaned, in one place for every reader: the
 * extension (from VS Code's configuration) and the CLI (from .vscode/settings.json). Pure: each reader passes
 * a lookup of raw values. package.json declares the same defaults for the settings UI; a unit test keeps
 * them equal.
 */
export const SETTING_DEFAULTS = {
  baseImage: 'python:3.12-slim',
  snapshotMaxMB: 200,
  dockerHost: '',
  maxConcurrentRuns: 2,
  primaryMetric: '',
  metricGoals: {} as Record<string, unknown>,
  'codeLens.enabled': true,
  revealOutput: 'onFailure',
} as const;

/** When a run's output channel is brought into view: at every start, when a run fails, or never by itself. */
export type RevealOutput = 'always' | 'onFailure' | 'never';
const REVEAL_OUTPUT: readonly RevealOutput[] = ['always', 'onFailure', 'never'];

export type SettingName = keyof typeof SETTING_DEFAULTS;

export interface WorkbenchSettings {
  baseImage: string;
  snapshotMaxBytes: number;
  dockerHost: string;
  maxConcurrentRuns: number;
  primaryMetric: string;
  metricGoals: Record<string, unknown>;
  codeLensEnabled: boolean;
  revealOutput: RevealOutput;
}

/** A raw value by short name (`baseImage`), undefined when unset. */
export type SettingLookup = (name: SettingName) => unknown;

function text(value: unknown, fallback: string): string {
  // Empty means "not set", as in VS Code's settings UI.
  return typeof value === 'string' && value.trim() ? value.trim() : fallback;
}

function positive(value: unknown, fallback: number): number {
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) && n >= 1 ? n : fallback;
}

export function resolveSettings(lookup: SettingLookup): WorkbenchSettings {
  const goals = lookup('metricGoals');
  return {
    baseImage: text(lookup('baseImage'), SETTING_DEFAULTS.baseImage),
    snapshotMaxBytes: positive(lookup('snapshotMaxMB'), SETTING_DEFAULTS.snapshotMaxMB) * 1024 * 1024,
    dockerHost: text(lookup('dockerHost'), SETTING_DEFAULTS.dockerHost),
    maxConcurrentRuns: Math.floor(positive(lookup('maxConcurrentRuns'), SETTING_DEFAULTS.maxConcurrentRuns)),
    primaryMetric: text(lookup('primaryMetric'), SETTING_DEFAULTS.primaryMetric),
    metricGoals: goals && typeof goals === 'object' && !Array.isArray(goals) ? (goals as Record<string, unknown>) : {},
    codeLensEnabled: lookup('codeLens.enabled') !== false,
    revealOutput: REVEAL_OUTPUT.find((v) => v === lookup('revealOutput')) ?? SETTING_DEFAULTS.revealOutput,
  };
}
