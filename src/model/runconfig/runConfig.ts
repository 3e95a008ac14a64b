/**
 * Named run configurations: `<workspace>/.mlw/runconfigs/<name>.yaml` (or `.yml`) say how a script runs
 * (arguments, environment, image, limits, timeout, network). Pure: files and YAML only, no vscode, no Docker.
 *
 * The public face of the folder: callers import from here, the modules behind it stay free to move.
 */
export type { RunConfig } from './types';
export { RunConfigError, defaultRunConfig } from './types';
export { validateRunConfigName } from './names';
export { parseDuration, parseMemory } from './units';
export type { RunConfigDocument } from './parse';
export { parseRunConfig, parseRunConfigDocument, problemError } from './parse';
export type { RunConfigPosition, RunConfigProblem, RunConfigRange } from './problems';
export type { RunConfigLocation } from './locate';
export { runConfigLocationAt } from './locate';
export type { RunConfigKey } from './schema';
export { exampleSnippet, keyAt, keysUnder, runConfigKeys } from './schema';
export { runConfigTemplate } from './template';
export { RUNCONFIG_SCHEMA_FILE, runConfigJsonSchema, runConfigJsonSchemaText } from './jsonSchema';
export { RUNCONFIG_DIR, listRunConfigs, loadRunConfig, saveRunConfig } from './files';
