/**
 * Vega views fed with named datasets, so a chart can take new rows through a changeset instead of being drawn
 * again. Same strict-CSP setup as vega.ts (expression ASTs evaluated by vega-interpreter, never eval).
 */
import * as vega from 'vega';
import { expressionInterpreter } from 'vega-interpreter';
import { TopLevelSpec, compile } from 'vega-lite';

export type View = vega.View;
export const changeset = vega.changeset;

/**
 * Draws a Vega-Lite spec as SVG into `container`, after loading `data` into its named datasets
 * (`data: {name: …}` in the spec). Resolves with the view once drawn; call finalize() before dropping it.
 */
export async function renderWithData(container: HTMLElement, spec: TopLevelSpec, data: Record<string, unknown[]>): Promise<vega.View> {
  const runtime = vega.parse(compile(spec).spec, undefined, { ast: true });
  const view = new vega.View(runtime, { expr: expressionInterpreter, renderer: 'svg', container, hover: true, logLevel: vega.Warn });
  for (const [name, rows] of Object.entries(data)) view.data(name, rows);
  await view.runAsync();
  return view;
}
