/**
 * Every form control of the webviews, in one module: built with @vscode/webview-ui-toolkit's web components
 * (deprecated upstream since Jan 2025, so a later swap to @vscode-elements/elements or plain HTML touches only
 * this file). If the toolkit cannot register or its components do not come up (a CSP blocking them, a browser
 * without custom elements), the same functions build plain elements styled with --vscode-* variables instead.
 *
 * The toolkit needs no 'unsafe-eval' nor 'unsafe-inline': FAST styles its shadow roots with constructable
 * stylesheets (adoptedStyleSheets), which the style-src directive does not govern, and its one <style> probe
 * (focus-visible support) takes the nonce from `<meta property="csp-nonce">`, which the page must carry.
 * Components whose templates bind a style attribute (badge, tag, progress, slider) are not used: a strict CSP
 * blocks style attributes.
 */
import {
  provideVSCodeDesignSystem,
  vsCodeButton,
  vsCodeCheckbox,
  vsCodeDivider,
  vsCodeDropdown,
  vsCodeOption,
  vsCodeRadio,
  vsCodeRadioGroup,
} from '@vscode/webview-ui-toolkit';

export type ToolkitMode = 'toolkit' | 'plain';

let mode: ToolkitMode | undefined;

/**
 * Registers the toolkit's components once; 'plain' when that fails or when the page asks for it with
 * `<body data-toolkit="plain">`. Every builder below calls it, so calling it first is optional.
 */
export function toolkitMode(): ToolkitMode {
  if (mode) return mode;
  if (document.body?.dataset.toolkit === 'plain' || typeof customElements === 'undefined') return (mode = 'plain');
  try {
    provideVSCodeDesignSystem().register(vsCodeButton(), vsCodeCheckbox(), vsCodeDivider(), vsCodeDropdown(), vsCodeOption(), vsCodeRadio(), vsCodeRadioGroup());
    // Registered is not enough: a component that cannot render (its template or styles blocked) has no shadow root.
    const probe = document.createElement('vscode-button');
    document.body.appendChild(probe);
    const works = !!customElements.get('vscode-button') && !!probe.shadowRoot;
    probe.remove();
    mode = works ? 'toolkit' : 'plain';
  } catch (err) {
    console.warn(`webview-ui-toolkit unavailable, using plain controls: ${(err as Error).message ?? err}`);
    mode = 'plain';
  }
  return mode;
}

interface Common {
  testId?: string;
  title?: string;
}

function common(el: HTMLElement, o: Common, cls: string): void {
  el.classList.add('tk', cls);
  if (o.testId) el.dataset.testid = o.testId;
  if (o.title) el.title = o.title;
}

export function tkButton(label: string, onClick: () => void, o: Common & { secondary?: boolean; icon?: boolean } = {}): HTMLElement {
  let el: HTMLElement;
  if (toolkitMode() === 'toolkit') {
    el = document.createElement('vscode-button');
    if (o.secondary) el.setAttribute('appearance', o.icon ? 'icon' : 'secondary');
  } else {
    el = document.createElement('button');
    (el as HTMLButtonElement).type = 'button';
    el.className = o.secondary ? 'button secondary' : 'button';
  }
  el.textContent = label;
  common(el, o, 'tk-button');
  el.addEventListener('click', (ev) => {
    ev.preventDefault();
    onClick();
  });
  return el;
}

export function tkCheckbox(label: string, checked: boolean, onChange: (checked: boolean) => void, o: Common = {}): HTMLElement {
  if (toolkitMode() === 'toolkit') {
    const el = document.createElement('vscode-checkbox') as HTMLElement & { checked: boolean };
    el.textContent = label;
    if (checked) el.setAttribute('checked', '');
    common(el, o, 'tk-checkbox');
    let last = checked;
    // FAST components also fire change while they initialise: report only real changes.
    el.addEventListener('change', () => {
      if (!!el.checked === last) return;
      last = !!el.checked;
      onChange(last);
    });
    return el;
  }
  const input = document.createElement('input');
  input.type = 'checkbox';
  input.checked = checked;
  input.addEventListener('change', () => onChange(input.checked));
  const el = document.createElement('label');
  el.append(input, document.createTextNode(` ${label}`));
  common(el, o, 'tk-checkbox');
  return el;
}

export interface Choice {
  value: string;
  label: string;
}

export function tkDropdown(choices: readonly Choice[], value: string | undefined, onChange: (value: string) => void, o: Common = {}): HTMLElement {
  if (toolkitMode() === 'toolkit') {
    const el = document.createElement('vscode-dropdown') as HTMLElement & { value: string };
    for (const c of choices) {
      const opt = document.createElement('vscode-option');
      opt.setAttribute('value', c.value);
      opt.textContent = c.label;
      if (c.value === value) opt.setAttribute('selected', '');
      el.appendChild(opt);
    }
    common(el, o, 'tk-dropdown');
    let last = value;
    el.addEventListener('change', () => {
      if (el.value === last) return;
      last = el.value;
      onChange(el.value);
    });
    return el;
  }
  const el = document.createElement('select');
  for (const c of choices) {
    const opt = document.createElement('option');
    opt.value = c.value;
    opt.textContent = c.label;
    opt.selected = c.value === value;
    el.appendChild(opt);
  }
  common(el, o, 'tk-dropdown');
  el.addEventListener('change', () => onChange(el.value));
  return el;
}

export function tkRadioGroup(label: string, choices: readonly Choice[], value: string, onChange: (value: string) => void, o: Common = {}): HTMLElement {
  if (toolkitMode() === 'toolkit') {
    const el = document.createElement('vscode-radio-group') as HTMLElement & { value: string };
    const caption = document.createElement('label');
    caption.slot = 'label';
    caption.textContent = label;
    el.appendChild(caption);
    for (const c of choices) {
      const radio = document.createElement('vscode-radio');
      radio.setAttribute('value', c.value);
      radio.textContent = c.label;
      if (c.value === value) radio.setAttribute('checked', '');
      if (o.testId) radio.dataset.testid = `${o.testId}:${c.value}`;
      el.appendChild(radio);
    }
    common(el, o, 'tk-radio-group');
    let last = value;
    el.addEventListener('change', () => {
      if (!el.value || el.value === last) return;
      last = el.value;
      onChange(el.value);
    });
    return el;
  }
  const el = document.createElement('fieldset');
  const legend = document.createElement('legend');
  legend.textContent = label;
  el.appendChild(legend);
  const name = `radio-${Math.random().toString(36).slice(2)}`;
  for (const c of choices) {
    const input = document.createElement('input');
    input.type = 'radio';
    input.name = name;
    input.value = c.value;
    input.checked = c.value === value;
    input.addEventListener('change', () => input.checked && onChange(c.value));
    const l = document.createElement('label');
    if (o.testId) l.dataset.testid = `${o.testId}:${c.value}`;
    l.append(input, document.createTextNode(` ${c.label}`));
    el.appendChild(l);
  }
  common(el, o, 'tk-radio-group');
  return el;
}

/** A range slider. The toolkit has none, so this is always a plain input, styled to match. */
export function tkSlider(label: string, range: { min: number; max: number; step: number }, value: number, onInput: (value: number) => void, o: Common = {}): HTMLElement {
  const input = document.createElement('input');
  input.type = 'range';
  input.min = String(range.min);
  input.max = String(range.max);
  input.step = String(range.step);
  input.value = String(value);
  const out = document.createElement('span');
  out.className = 'tk-slider-value';
  out.textContent = String(value);
  input.addEventListener('input', () => {
    out.textContent = input.value;
    onInput(Number(input.value));
  });
  const el = document.createElement('label');
  el.append(document.createTextNode(`${label} `), input, out);
  common(el, o, 'tk-slider');
  if (o.testId) input.dataset.testid = `${o.testId}:input`;
  return el;
}

/**
 * A tag (a small label). Always plain: the toolkit's vscode-tag (its badge template) sets a style attribute,
 * which a CSP without 'unsafe-inline' blocks.
 */
export function tkTag(text: string, o: Common = {}): HTMLElement {
  const el = document.createElement('span');
  el.textContent = text;
  common(el, o, 'tk-tag');
  return el;
}

export function tkDivider(): HTMLElement {
  const el = document.createElement(toolkitMode() === 'toolkit' ? 'vscode-divider' : 'hr');
  el.classList.add('tk', 'tk-divider');
  return el;
}

/** Sets a slider's value from code (as if the user moved it), for tests. */
export function setSliderValue(el: HTMLElement, value: number): void {
  const input = el.querySelector('input[type=range]') as HTMLInputElement | null;
  if (!input) return;
  input.value = String(value);
  input.dispatchEvent(new Event('input'));
}
