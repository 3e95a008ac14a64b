// A metric's full-size chart over its steps (or the order points were logged in), drawn as SVG built through
// the DOM (no markup parsing, no style attributes: the strict CSP allows presentation attributes). Hovering
// shows the nearest point's step and value, as text in the chart's readout.
import { formatNumber } from '../../src/model/common/format';

const SVG = 'http://www.w3.org/2000/svg';
const PAD = { left: 56, right: 12, top: 10, bottom: 24 };

export interface StepChartOptions {
  width?: number;
  height?: number;
  color: string;
  muted: string;
  /** Axis title of x: "step" or "index". */
  xLabel: string;
  name: string;
}

function el<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

/** The index of the point whose x is nearest `x` (points sorted by x, as a series is). */
export function nearestIndex(points: readonly { x: number }[], x: number): number {
  let lo = 0;
  let hi = points.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (points[mid].x <= x) lo = mid;
    else hi = mid;
  }
  return Math.abs(points[hi].x - x) < Math.abs(points[lo].x - x) ? hi : lo;
}

/**
 * Draws `points` into `container` (replacing what was there), with a readout element for hover values.
 * Returns the readout's text for a point index (tests and keyboard use it too).
 */
export function drawStepChart(container: HTMLElement, points: readonly { x: number; y: number }[], o: StepChartOptions): { show(index: number): void } {
  const width = o.width ?? 560;
  const height = o.height ?? 180;
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  if (y0 === y1) [y0, y1] = [y0 - Math.abs(y0 || 1) * 0.1, y1 + Math.abs(y1 || 1) * 0.1];
  const sx = (x: number) => PAD.left + ((x - x0) / (x1 - x0)) * (width - PAD.left - PAD.right);
  const sy = (y: number) => height - PAD.bottom - ((y - y0) / (y1 - y0)) * (height - PAD.top - PAD.bottom);

  const svg = el('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `${o.name} over ${o.xLabel}s` });
  svg.classList.add('step-chart');
  const axis = el('g', { class: 'axis', stroke: o.muted, 'stroke-width': 1 });
  axis.append(
    el('line', { x1: PAD.left, y1: height - PAD.bottom, x2: width - PAD.right, y2: height - PAD.bottom }),
    el('line', { x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: height - PAD.bottom }),
  );
  svg.appendChild(axis);
  const label = (text: string, x: number, y: number, anchor: string) => {
    const t = el('text', { x, y, 'text-anchor': anchor, fill: o.muted, 'font-size': 11, class: 'tick' });
    t.textContent = text;
    svg.appendChild(t);
  };
  label(formatNumber(y1), PAD.left - 6, PAD.top + 8, 'end');
  label(formatNumber(y0), PAD.left - 6, height - PAD.bottom, 'end');
  label(formatNumber(x0), PAD.left, height - 8, 'start');
  label(`${o.xLabel} ${formatNumber(x1)}`, width - PAD.right, height - 8, 'end');

  const d = points.map((p, i) => `${i ? 'L' : 'M'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join('');
  svg.appendChild(el('path', { d, fill: 'none', stroke: o.color, 'stroke-width': 1.5, class: 'series' }));
  const marker = el('circle', { r: 3.5, fill: o.color, class: 'marker', visibility: 'hidden', cx: 0, cy: 0 });
  const guide = el('line', { stroke: o.muted, 'stroke-dasharray': '3 3', class: 'guide', visibility: 'hidden', x1: 0, x2: 0, y1: PAD.top, y2: height - PAD.bottom });
  svg.append(guide, marker);

  const readout = document.createElement('div');
  readout.className = 'readout muted';
  readout.dataset.testid = `hover:${o.name}`;
  readout.textContent = `${points.length} point(s) drawn; hover for values`;

  const show = (i: number): void => {
    const p = points[i];
    marker.setAttribute('cx', sx(p.x).toFixed(1));
    marker.setAttribute('cy', sy(p.y).toFixed(1));
    guide.setAttribute('x1', sx(p.x).toFixed(1));
    guide.setAttribute('x2', sx(p.x).toFixed(1));
    marker.setAttribute('visibility', 'visible');
    guide.setAttribute('visibility', 'visible');
    readout.textContent = `${o.xLabel} ${formatNumber(p.x)}: ${o.name} = ${formatNumber(p.y)}`;
  };
  svg.addEventListener('mousemove', (ev) => {
    const box = svg.getBoundingClientRect();
    const px = ((ev.clientX - box.left) / box.width) * width;
    const x = x0 + ((px - PAD.left) / (width - PAD.left - PAD.right)) * (x1 - x0);
    show(nearestIndex(points, x));
  });
  svg.addEventListener('mouseleave', () => {
    marker.setAttribute('visibility', 'hidden');
    guide.setAttribute('visibility', 'hidden');
  });
  container.replaceChildren(svg, readout);
  return { show };
}
