/**
 * Renders Vega-Lite specs in a webview under a strict CSP (no 'unsafe-eval'): the Vega parser keeps expression
 * ASTs (`ast: true`) and vega-interpreter evaluates them, so Vega never builds functions from source text.
 * The one place webviews touch Vega; charts take their colours from the editor theme (--vscode-* variables).
 */
import * as vega from 'vega';
import { expressionInterpreter } from 'vega-interpreter';
import { TopLevelSpec, compile } from 'vega-lite';

export type { TopLevelSpec };

/**
 * Text for a Vega title that came from a run (a metric or param name). Vega's expression parser reads a string
 * literal that is the name of an Object.prototype member ("constructor", "toString", "__proto__"…) as an
 * identifier (vega-expression looks literals up in a plain object), and the chart then fails to build. Such a
 * title goes in as an expression joining two literals, which reads the same.
 */
export function vegaText(text: string): string | { signal: string } {
  if (!(text in Object.prototype)) return text;
  return { signal: `${JSON.stringify(text.slice(0, 1))} + ${JSON.stringify(text.slice(1))}` };
}

/** A --vscode-* colour of the current theme (VS Code sets them on the root element), with a fallback. */
export function themeColor(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(`--vscode-${name}`).trim();
  return value || fallback;
}

/** Chart colours of the current theme. */
export function chartTheme(): { foreground: string; line: string; accent: string; muted: string; font: string } {
  return {
    foreground: themeColor('foreground', '#cccccc'),
    line: themeColor('charts-blue', '#3794ff'),
    accent: themeColor('charts-orange', '#d18616'),
    muted: themeColor('descriptionForeground', '#999999'),
    font: themeColor('font-family', 'sans-serif'),
  };
}

/**
 * Draws a Vega-Lite spec as SVG into `container` (replacing what was there). Resolves with the view once drawn;
 * call finalize() on it before dropping it.
 */
export async function renderVegaLite(container: HTMLElement, spec: TopLevelSpec): Promise<vega.View> {
  const runtime = vega.parse(compile(spec).spec, undefined, { ast: true });
  const view = new vega.View(runtime, { expr: expressionInterpreter, renderer: 'svg', container, hover: true, logLevel: vega.Warn });
  await view.runAsync();
  return view;
}

/** Calls back when the editor theme changes (VS Code swaps the body's vscode-light/dark/high-contrast class). */
export function onThemeChange(callback: () => void): { dispose(): void } {
  const observer = new MutationObserver(() => callback());
  observer.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  return { dispose: () => observer.disconnect() };
}
