import { RunOptions } from '../model/runs/run';
import type { RunConfig } from '../model/runconfig/runConfig';

/** The execution options a run configuration contributes to a run (script and args are the caller's choice). */
export function optionsFromConfig(config: RunConfig): RunOptions {
  const options: RunOptions = { configName: config.name, network: config.network };
  if (Object.keys(config.env).length) options.env = config.env;
  if (config.image) options.image = config.image;
  if (Object.values(config.resources).some((v) => v !== undefined)) options.resources = config.resources;
  if (config.timeoutSeconds) options.timeoutSeconds = config.timeoutSeconds;
  return options;
}
