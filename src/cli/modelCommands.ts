import * as path from 'node:path';
import { UserFacingError } from '../model/common/errors';
import { formatBytes, formatNumber } from '../model/common/format';
import { showControls } from '../model/common/terminalText';
import { ModelRegistry } from '../model/models/modelRegistry';
import { ModelVersion, formatModelRef, keyMetricOf, parseModelRef } from '../model/models/modelVersion';
import { CliContext, formatTable, settingsOf } from './commands';

export const MODEL_USAGE = `  model register RUN_ID PATH --name NAME [--score FILE] [--description T] [--tag k=v]…
                               Register a file or folder of a run's outputs (outputs/model.joblib or
                               model.joblib) as the next version of NAME, with the run's lineage
  model register --file PATH --name NAME [--score FILE] [--description T] [--tag k=v]…
                               Register any file or folder
  model list [--json]          Models and their versions, newest first
  model show NAME[:VERSION|@ALIAS] [--json]
                               One version (NAME alone: the newest) with its lineage and files
  model alias NAME:VERSION ALIAS
                               Point ALIAS (production, staging…) at that version
  model delete NAME:VERSION    Delete a version (refused while a deployment serves it)
`;

function tagsOf(values: string[]): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const t of values) {
    const eq = t.indexOf('=');
    if (eq < 1) throw new UserFacingError(`--tag ${t}: write a tag as key=value`);
    tags[t.slice(0, eq)] = t.slice(eq + 1);
  }
  return tags;
}

function flag(ctx: CliContext, name: string): string | undefined {
  const v = ctx.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

/** Lines a person reads about one version; every value the record holds came from a run or a user, so controls are escaped. */
export function describeModelVersion(v: ModelVersion, aliases: Record<string, number>): string {
  const here = Object.entries(aliases).filter(([, n]) => n === v.version).map(([a]) => `@${a}`);
  const lines = [
    `Model     ${formatModelRef(v)}${here.length ? ` (${here.join(', ')})` : ''}`,
    `Created   ${v.createdAt}`,
  ];
  if (v.description) lines.push(`About     ${v.description}`);
  const tags = Object.entries(v.tags);
  if (tags.length) lines.push(`Tags      ${tags.map(([k, val]) => `${k}=${val}`).join(', ')}`);
  const s = v.source;
  if (s.kind === 'run') {
    lines.push(`Run       ${s.runId} (${s.script}${s.args.length ? ' ' + s.args.join(' ') : ''}), outputs/${s.path === '.' ? '' : s.path}`);
    if (s.commit) lines.push(`Git       ${s.branch ?? ''} @ ${s.commit.slice(0, 10)}${s.dirty ? ' (uncommitted changes)' : ''}`.replace('  @', ' @'));
    if (s.image) lines.push(`Image     ${s.image.tag}`);
    const params = Object.entries(s.params);
    if (params.length) lines.push(`Params    ${params.map(([k, val]) => `${k}=${typeof val === 'string' ? val : JSON.stringify(val)}`).join(', ')}`);
    const metrics = Object.entries(s.metrics);
    if (metrics.length) lines.push(`Metrics   ${metrics.map(([k, val]) => `${k}=${formatNumber(val)}`).join(', ')}`);
  } else {
    lines.push(`File      ${s.path}`);
  }
  lines.push(`Scoring   ${v.score ? v.score.path : 'built-in scorer (predict)'}`);
  lines.push(`Content   sha256:${v.contentHash.slice(0, 16)}…`);
  lines.push('Files');
  for (const f of v.files) lines.push(`  ${f.path}  ${formatBytes(f.bytes)}`);
  return lines.map(showControls).join('\n');
}

export async function cmdModel(ctx: CliContext, sub: string | undefined, args: string[], repeated: Map<string, string[]>): Promise<number> {
  const registry = new ModelRegistry(ctx.workspace);
  const print = (value: unknown, text: () => string) => ctx.out.write((ctx.json ? JSON.stringify(value, null, 2) : text()) + '\n');
  switch (sub) {
    case 'register': {
      const name = flag(ctx, '--name');
      if (!name) throw new UserFacingError('mlw model register needs --name NAME (the model to add a version to)');
      const scoreFile = flag(ctx, '--score');
      const options = {
        name,
        description: flag(ctx, '--description'),
        tags: tagsOf(repeated.get('--tag') ?? []),
        scoreFile: scoreFile ? path.resolve(scoreFile) : undefined,
      };
      const file = flag(ctx, '--file');
      let v: ModelVersion;
      if (file !== undefined) {
        if (args.length) throw new UserFacingError('mlw model register --file PATH takes no run id; drop one or the other');
        v = await registry.registerFile(file, options);
      } else {
        const [runId, outputPath] = args;
        if (!runId || !outputPath) throw new UserFacingError('Usage: mlw model register RUN_ID PATH --name NAME (or --file PATH --name NAME)');
        v = await registry.registerFromRun(runId, outputPath, options);
      }
      print({ ...v, runId: v.source.kind === 'run' ? v.source.runId : undefined }, () =>
        `Registered ${formatModelRef(v)} (${v.files.length} file${v.files.length === 1 ? '' : 's'}, ${formatBytes(v.files.reduce((n, f) => n + f.bytes, 0))})`);
      return 0;
    }
    case 'list': {
      const models = await registry.list();
      const metric = settingsOf(ctx).primaryMetric;
      print(models.map((m) => ({ name: m.name, aliases: m.aliases, versions: m.versions.map((v) => ({ ...v, runId: v.source.kind === 'run' ? v.source.runId : undefined })) })), () => {
        if (!models.length) return 'No models yet. Register one with: mlw model register RUN_ID outputs/model.joblib --name NAME';
        const rows = [['MODEL', 'VERSION', 'ALIASES', 'CREATED', 'SOURCE', 'KEY METRIC']];
        for (const m of models) {
          for (const v of m.versions) {
            const aliases = Object.entries(m.aliases).filter(([, n]) => n === v.version).map(([a]) => a).join(',');
            const km = keyMetricOf(v, metric);
            rows.push([m.name, String(v.version), aliases || '-', v.createdAt.slice(0, 19).replace('T', ' '),
              v.source.kind === 'run' ? `run ${v.source.runId}` : v.source.path, km ? `${km.name}=${formatNumber(km.value)}` : '-']);
          }
        }
        return formatTable(rows);
      });
      return 0;
    }
    case 'show': {
      if (!args[0]) throw new UserFacingError('Usage: mlw model show NAME[:VERSION|@ALIAS]');
      const v = await registry.resolve(args[0]);
      const aliases = await registry.aliases(v.name);
      print({ ...v, aliases: Object.keys(aliases).filter((a) => aliases[a] === v.version), runId: v.source.kind === 'run' ? v.source.runId : undefined },
        () => describeModelVersion(v, aliases));
      return 0;
    }
    case 'alias': {
      const [refText, alias] = args;
      if (!refText || !alias) throw new UserFacingError('Usage: mlw model alias NAME:VERSION ALIAS');
      const ref = parseModelRef(refText);
      if (ref.version === undefined) throw new UserFacingError(`Name the version the alias points at: mlw model alias ${ref.name}:VERSION ${alias}`);
      const aliases = await registry.setAlias(ref.name, ref.version, alias);
      print({ name: ref.name, version: ref.version, alias, aliases }, () => `${ref.name}@${alias} → version ${ref.version}`);
      return 0;
    }
    case 'delete': {
      if (!args[0]) throw new UserFacingError('Usage: mlw model delete NAME:VERSION');
      const ref = parseModelRef(args[0]);
      if (ref.version === undefined) throw new UserFacingError(`Name the version to delete: mlw model delete ${ref.name}:VERSION`);
      await registry.deleteVersion(ref.name, ref.version);
      print({ name: ref.name, version: ref.version, deleted: true }, () => `Deleted ${ref.name}:${ref.version}`);
      return 0;
    }
    default:
      throw new UserFacingError(`Unknown command "model ${sub ?? ''}". Use one of: model register, list, show, alias, delete.`);
  }
}
