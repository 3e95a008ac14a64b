/**
 * A tiny DOM builder for webviews: text always goes in as textContent (never parsed as HTML), and styles only
 * through the CSSOM, which a strict CSP (no 'unsafe-inline') allows.
 */
export type Child = Node | string | number | false | null | undefined;

export interface Attrs {
  class?: string;
  title?: string;
  testId?: string;
  onClick?: (ev: MouseEvent) => void;
  /** Any other attribute (href, aria-label, colspan…). */
  [name: string]: string | number | boolean | undefined | ((ev: MouseEvent) => void);
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs | null = null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === false) continue;
    if (key === 'onClick' && typeof value === 'function') {
      el.addEventListener('click', (ev) => {
        ev.preventDefault();
        (value as (ev: MouseEvent) => void)(ev as MouseEvent);
      });
    } else if (key === 'testId') {
      el.dataset.testid = String(value);
    } else if (key === 'class') {
      el.className = String(value);
    } else if (typeof value !== 'function') {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, ...children);
  return el;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

/** A button that looks like the editor's (secondary when asked). */
export function button(label: string, onClick: () => void, options: { testId?: string; title?: string; secondary?: boolean } = {}): HTMLButtonElement {
  return h('button', { class: options.secondary ? 'button secondary' : 'button', testId: options.testId, title: options.title, type: 'button', onClick }, label);
}

/** A link-styled action. */
export function link(label: string, onClick: () => void, options: { testId?: string; title?: string } = {}): HTMLAnchorElement {
  return h('a', { href: '#', class: 'link', testId: options.testId, title: options.title, onClick }, label);
}

/** The element whose data-testid is `testId` (compared as text, so any characters are fine). */
export function byTestId(testId: string): HTMLElement | undefined {
  return Array.from(document.querySelectorAll<HTMLElement>('[data-testid]')).find((el) => el.dataset.testid === testId);
}
