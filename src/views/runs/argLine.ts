/**
 * A script's arguments as one line of text, as a shell would read it (the line users type in "Run as Experiment
 * with Arguments…") and back. Pure: no vscode.
 */

/** Splits on unquoted whitespace; single quotes keep everything, double quotes and backslashes escape as in sh. */
export function splitArgs(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else cur += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1])) cur += line[++i];
      else cur += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw new Error(`unclosed ${quote === '"' ? 'double' : 'single'} quote in the arguments`);
  if (inWord) out.push(cur);
  return out;
}

/** The line splitArgs reads back as `args`: plain words as they are, others single-quoted. */
export function joinArgs(args: readonly string[]): string {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** The spellings a param name may have as an option: `learning_rate` → `--learning_rate`, `--learning-rate`. */
function optionNames(param: string): string[] {
  return [...new Set([`--${param}`, `--${param.replace(/_/g, '-')}`])];
}

export interface ParamOption {
  param: string;
  /** The option as the arguments (or the script) spell it. */
  option: string;
  value: string;
}

/**
 * The logged params a script took from its arguments, as options: `--lr 0.1` when the args hold `--lr` (or
 * `--lr=…`), or when the script's source names the option (argparse, click) and the value came from its default.
 */
export function paramOptions(params: Record<string, unknown>, args: readonly string[], scriptSource = ''): ParamOption[] {
  const out: ParamOption[] = [];
  for (const [param, raw] of Object.entries(params)) {
    const value = typeof raw === 'string' ? raw : JSON.stringify(raw);
    const inArgs = optionNames(param).find((o) => args.some((a) => a === o || a.startsWith(`${o}=`)));
    const inSource = optionNames(param).find((o) => scriptSource.includes(`'${o}'`) || scriptSource.includes(`"${o}"`));
    const option = inArgs ?? inSource;
    if (option) out.push({ param, option, value });
  }
  return out;
}

/** `args` with `option` set to `value`: replaced where it is (`--lr 0.1` or `--lr=0.1`), else appended. */
export function setOption(args: readonly string[], option: string, value: string): string[] {
  const out = [...args];
  const i = out.findIndex((a) => a === option || a.startsWith(`${option}=`));
  if (i < 0) return [...out, option, value];
  if (out[i] === option) {
    if (i + 1 < out.length && !out[i + 1].startsWith('--')) out[i + 1] = value;
    else out.splice(i + 1, 0, value);
  } else {
    out[i] = `${option}=${value}`;
  }
  return out;
}
