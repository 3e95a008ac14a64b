/** What a run configuration may be called; the name is also its file name, so it must be safe as one. */

const NAME_PATTERN = /^[A-Za-z0-9][\w.-]*$/;
/** In order of preference when both exist (which is refused as ambiguous anyway). */
export const RUNCONFIG_EXTENSIONS = ['.yaml', '.yml'];

/** Why a name cannot be a run configuration's name, or undefined when it can (usable as an input box validator). */
export function validateRunConfigName(name: string): string | undefined {
  if (RUNCONFIG_EXTENSIONS.some((ext) => name.toLowerCase().endsWith(ext))) {
    return `Run configuration names leave out the extension: use "${name.replace(/\.ya?ml$/i, '')}"`;
  }
  if (!NAME_PATTERN.test(name)) {
    return `"${name}" is not a valid run configuration name: start with a letter or digit, then use letters, digits, ".", "_" or "-"`;
  }
  return undefined;
}
