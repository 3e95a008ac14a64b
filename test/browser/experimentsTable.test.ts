/**
 * The experiments table webview in real Chromium, loaded from dist/webviews/experimentsTable.js under the panel's
 * strict CSP with a stub acquireVsCodeApi, fixture state posted as the extension would. Asserts the DOM a user
 * sees and the messages the page posts. Run: npx mocha --no-config out/test/browser/experimentsTable.test.js
 */
import * as assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { FromWebview, RunSummaryFields, experimentsTablePage } from '../../src/views/protocol/experimentsTable';
import { ComparePage, launchChromium, openWebviewPage } from './comparePage';
import { manyRuns, tableState } from './tableFixtures';

type Rendered = Extract<FromWebview, { type: 'rendered' }>;

const FIXTURE: RunSummaryFields[] = [
  { id: 'run-a', script: 'train.py', status: 'Completed', createdAt: '2026-11-25T10:00:03.000Z', params: { lr: 0.01 }, metrics: { val_accuracy: 0.97, loss: 0.2 }, labels: ['best'] },
  { id: 'run-b', script: 'train.py', status: 'Failed', createdAt: '2026-11-25T10:00:02.000Z', params: { lr: 0.1 }, metrics: { val_accuracy: 0.91, loss: 0.5 } },
  { id: 'run-c', script: 'eval.py', status: 'Completed', createdAt: '2026-11-25T10:00:01.000Z', params: { lr: 0.001 }, metrics: { val_accuracy: 0.96, loss: 0.3 }, name: '<img src=x onerror=alert(1)>' },
  { id: 'run-d', script: 'train.py', status: 'Running', createdAt: '2026-11-25T10:00:00.000Z', params: { lr: 0.01 }, commit: 'feedface00' },
];

async function domRowIds(cp: ComparePage): Promise<string[]> {
  return cp.page.evaluate(() => Array.from(document.querySelectorAll<HTMLElement>('.body .row:not([hidden])')).sort((a, b) => Number(a.dataset.index) - Number(b.dataset.index)).map((r) => (r.dataset.testid ?? '').slice('row:'.length)));
}

async function headerKeys(cp: ComparePage): Promise<string[]> {
  return cp.page.evaluate(() => Array.from(document.querySelectorAll<HTMLElement>('.header .cell')).map((c) => (c.dataset.testid ?? '').slice('header:'.length)));
}

const click = (cp: ComparePage, testId: string, modifiers: ('Control' | 'Shift')[] = []) => cp.page.click(`[data-testid="${testId}"]`, { modifiers });

describe('Experiments table webview in Chromium (strict CSP, no network)', function () {
  this.timeout(60_000);
  let browser: Browser;
  let cp: ComparePage;

  before(async () => {
    browser = await launchChromium();
    cp = await openWebviewPage(browser, experimentsTablePage('file:///workspace'));
    await cp.waitForPosted((m) => m.type === 'ready');
    await cp.send({ type: 'state', version: 1, state: tableState(FIXTURE) });
    const rendered = await cp.waitForPosted<Rendered>((m) => m.type === 'rendered' && m.version === 1);
    assert.equal(rendered.rows, 4);
  });

  after(async () => {
    await browser?.close();
  });

  it('shows one row per run and a column per fixed field, param and final metric; run data as text only', async () => {
    assert.deepEqual(await headerKeys(cp), ['status', 'name', 'script', 'created', 'duration', 'commit', 'param:lr', 'metric:loss', 'metric:val_accuracy']);
    assert.deepEqual(await domRowIds(cp), ['run-a', 'run-b', 'run-c', 'run-d']);
    const nameCell = await cp.page.textContent('[data-testid="row:run-c"] .cell:nth-child(2)');
    assert.equal(nameCell, '<img src=x onerror=alert(1)>');
    assert.equal(await cp.page.locator('img').count(), 0);
    assert.match((await cp.page.textContent('[data-testid="count"]')) ?? '', /4 of 4 runs/);
    assert.deepEqual(await cp.violations(), []);
    assert.deepEqual(cp.blocked, []);
  });

  it('sorts by a column: ascending, descending, then back to newest first', async () => {
    await click(cp, 'header:metric:val_accuracy');
    assert.deepEqual(await domRowIds(cp), ['run-b', 'run-c', 'run-a', 'run-d'], 'empty cells last');
    await click(cp, 'header:metric:val_accuracy');
    assert.deepEqual(await domRowIds(cp), ['run-a', 'run-c', 'run-b', 'run-d']);
    assert.equal(await cp.page.getAttribute('[data-testid="header:metric:val_accuracy"]', 'aria-sort'), 'descending');
    await click(cp, 'header:metric:val_accuracy');
    assert.deepEqual(await domRowIds(cp), ['run-a', 'run-b', 'run-c', 'run-d']);
    const views = (await cp.posted()).filter((m) => m.type === 'setView');
    assert.deepEqual((views[1] as Extract<FromWebview, { type: 'setView' }>).view.sort, { column: 'metric:val_accuracy', descending: true }, 'the sort is sent to be remembered');
  });

  it('adds a filter as a removable chip, and says what is wrong with a bad one', async () => {
    await cp.page.fill('[data-testid="filter-input"]', 'val_accuracy > 0.95');
    await cp.page.press('[data-testid="filter-input"]', 'Enter');
    assert.equal(await cp.page.textContent('[data-testid="chip:val_accuracy > 0.95"]'), 'val_accuracy > 0.95×');
    assert.deepEqual(await domRowIds(cp), ['run-a', 'run-c']);
    await cp.page.fill('[data-testid="filter-input"]', 'status = completed');
    await cp.page.press('[data-testid="filter-input"]', 'Enter');
    await cp.page.fill('[data-testid="filter-input"]', 'label = best');
    await cp.page.press('[data-testid="filter-input"]', 'Enter');
    assert.deepEqual(await domRowIds(cp), ['run-a']);
    await cp.page.fill('[data-testid="filter-input"]', 'val_acc > 1');
    await cp.page.press('[data-testid="filter-input"]', 'Enter');
    assert.match((await cp.page.textContent('[data-testid="filter-error"]')) ?? '', /No column "val_acc"; did you mean val_accuracy/);
    await click(cp, 'chip-remove:label = best');
    await click(cp, 'chip-remove:val_accuracy > 0.95');
    assert.equal(await cp.page.locator('[data-testid="chip:val_accuracy > 0.95"]').count(), 0);
    assert.deepEqual(await domRowIds(cp), ['run-a', 'run-c']);
    await click(cp, 'chip-remove:status = completed');
    assert.deepEqual(await domRowIds(cp), ['run-a', 'run-b', 'run-c', 'run-d']);
    const last = (await cp.posted()).filter((m) => m.type === 'setView').pop() as Extract<FromWebview, { type: 'setView' }>;
    assert.deepEqual(last.view.filters, []);
  });

  it('hides, reorders and pins columns; a pinned column stays in place when scrolled sideways', async () => {
    await click(cp, 'columns-toggle');
    await click(cp, 'column-hide:commit');
    assert.ok(!(await headerKeys(cp)).includes('commit'));
    await click(cp, 'column-up:metric:loss');
    const keys = await headerKeys(cp);
    assert.ok(keys.indexOf('metric:loss') < keys.indexOf('param:lr'), `loss moved before lr: ${keys.join(',')}`);
    await click(cp, 'column-pin:metric:val_accuracy');
    assert.equal((await headerKeys(cp))[0], 'metric:val_accuracy', 'pinned columns come first');
    await cp.page.setViewportSize({ width: 500, height: 600 });
    const leftOf = () => cp.page.evaluate(() => document.querySelector('[data-testid="row:run-a"] .cell')!.getBoundingClientRect().left);
    const before = await leftOf();
    await cp.page.evaluate(() => (document.querySelector('[data-testid="grid"]')!.scrollLeft = 300));
    await cp.page.waitForTimeout(50);
    assert.equal(await leftOf(), before, 'the pinned cell did not move');
    const secondLeft = await cp.page.evaluate(() => document.querySelector('[data-testid="row:run-a"] .cell:nth-child(2)')!.getBoundingClientRect().left);
    assert.ok(secondLeft < before, 'an unpinned cell scrolled away');
    const last = (await cp.posted()).filter((m) => m.type === 'setView').pop() as Extract<FromWebview, { type: 'setView' }>;
    assert.deepEqual(last.view.layout.hidden, ['commit']);
    assert.deepEqual(last.view.layout.pinned, ['metric:val_accuracy']);
    await click(cp, 'columns-toggle');
    await cp.page.setViewportSize({ width: 1280, height: 900 });
  });

  it('multi-selects rows (click, ctrl+click, shift+click, keyboard) and posts the action with their ids', async () => {
    const actions = async () => (await cp.posted()).filter((m) => m.type === 'action') as Extract<FromWebview, { type: 'action' }>[];
    assert.equal(await cp.page.isDisabled('[data-testid="action:compare"]'), true, 'Compare needs two runs');
    await click(cp, 'row:run-a');
    await click(cp, 'row:run-c', ['Control']);
    assert.equal(await cp.page.isDisabled('[data-testid="action:compare"]'), false);
    await click(cp, 'action:compare');
    await click(cp, 'action:star');
    await click(cp, 'action:delete');
    await click(cp, 'row:run-b');
    await click(cp, 'row:run-d', ['Shift']);
    await click(cp, 'action:label');
    await click(cp, 'action:rerun');
    // Keyboard: down from run-d's row is the end; up twice with shift extends to run-b.
    await cp.page.focus('[data-testid="grid"]');
    await cp.page.keyboard.press('Home');
    await cp.page.keyboard.press('Shift+ArrowDown');
    await click(cp, 'action:compare');
    await cp.page.focus('[data-testid="grid"]');
    await cp.page.keyboard.press('Enter');
    const sent = (await actions()).map((a) => [a.action, a.ids]);
    assert.deepEqual(sent, [
      ['compare', ['run-a', 'run-c']],
      ['star', ['run-a', 'run-c']],
      ['delete', ['run-a', 'run-c']],
      ['label', ['run-b', 'run-c', 'run-d']],
      ['rerun', ['run-b', 'run-c', 'run-d']],
      ['compare', ['run-a', 'run-b']],
      ['openDetails', ['run-b']],
    ]);
  });

  it('exports what it shows: the filtered, sorted rows and the visible columns', async () => {
    await cp.page.fill('[data-testid="filter-input"]', 'lr < 0.05');
    await cp.page.press('[data-testid="filter-input"]', 'Enter');
    await click(cp, 'header:metric:loss');
    await click(cp, 'export-csv');
    const exp = (await cp.posted()).filter((m) => m.type === 'exportCsv').pop() as Extract<FromWebview, { type: 'exportCsv' }>;
    assert.deepEqual(exp.ids, ['run-a', 'run-c', 'run-d']);
    assert.equal(exp.columns[0], 'metric:val_accuracy');
    assert.ok(!exp.columns.includes('commit'));
  });

  it('keeps 10,000 runs × 50 columns to a few DOM rows, and scrolls to the last run', async () => {
    const state = tableState(manyRuns(10_000));
    assert.equal(state.columns.length, 50);
    const big = await openWebviewPage(browser, experimentsTablePage('file:///workspace'), { height: 800 });
    await big.waitForPosted((m) => m.type === 'ready');
    // As text, parsed in the page (as VS Code delivers it): playwright's own serialisation of 10,000 rows is slow.
    await big.page.evaluate((text) => window.postMessage(JSON.parse(text), '*'), JSON.stringify({ type: 'state', version: 1, state }));
    const rendered = await big.waitForPosted<Rendered>((m) => m.type === 'rendered');
    assert.equal(rendered.rows, 10_000);
    console.log(`      (10,000 × 50 rendered in ${rendered.ms} ms in the page)`);
    assert.ok(rendered.domRows > 10 && rendered.domRows < 80, `DOM rows: ${rendered.domRows}`);
    assert.ok((await big.page.locator('.body .row').count()) < 80);
    await big.page.evaluate(() => {
      const g = document.querySelector('[data-testid="grid"]')!;
      g.scrollTop = g.scrollHeight;
    });
    await big.page.waitForTimeout(100);
    const ids = await domRowIds(big);
    assert.equal(ids[ids.length - 1], state.rows[9999].id);
    assert.ok(ids.length < 80);
    assert.ok(await big.page.isVisible(`[data-testid="row:${state.rows[9999].id}"]`));
    await big.page.context().close();
  });
});
