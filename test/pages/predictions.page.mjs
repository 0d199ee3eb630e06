// The predictions page alone in Chromium (dark and light), fed hand-made host messages: the
// checkpoint list, a text, a two-checkpoint result; checks what it draws and what it posts back.
// Screenshots: .e2e/artifacts/page-predictions-{dark,light}.png.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openPanelPage } from '../../scripts/e2e/panel-page.mjs';
import { REPO_ROOT } from '../../scripts/e2e/run.mjs';
import { checker } from './check.mjs';

const ART = join(REPO_ROOT, '.e2e', 'artifacts');
mkdirSync(ART, { recursive: true });

const A = '/ws/runs/mlm-base/checkpoint-500', B = '/ws/runs/mlm-base';
const ITEMS = [
  { label: 'mlm-base · step 500', description: 'eval_loss 2.914', path: A },
  { label: 'mlm-base · final', description: 'active · completed', path: B },
];
const TEXT = 'the congress of the [MASK] states met [MASK].';
//            0   4        13 16  20     27     34 38     44
const t = (text, start, end, special = false) => ({ text, start, end, special });
const TOKENS = [t('[CLS]', 0, 0, true), t('the', 0, 3), t('congress', 4, 12), t('of', 13, 15), t('the', 16, 19), t('[MASK]', 20, 26), t('states', 27, 33), t('me', 34, 36), t('##t', 36, 37), t('[MASK]', 38, 44), t('.', 44, 45), t('[SEP]', 0, 0, true)];
const p = (token, score) => ({ token, score });
const column = (checkpoint, m1, m2, ms) => ({ checkpoint, tokens: TOKENS, masks: [{ start: 20, end: 26, predictions: m1 }, { start: 38, end: 44, predictions: m2 }], warnings: [], ms });
const RESULT = [
  column(A, [p('united', 0.62), p('free', 0.21), p('southern', 0.05), p('several', 0.031), p('other', 0.0004)], [p('today', 0.4), p('again', 0.3), p('there', 0.12), p('here', 0.05), p('##ly', 0.01)], 41.6),
  column(B, [p('united', 0.483), p('federal', 0.3), p('free', 0.1), p('southern', 0.02), p('new', 0.01)], [p('yesterday', 0.35), p('today', 0.2), p('again', 0.1), p('here', 0.09), p('there', 0.02)], 38.2),
];

const { check, finish } = checker();
const lastRun = async (pg) => (await pg.posted()).filter((m) => m.type === 'predictions/run').pop();
/** Polls `fn` every 20 ms until it gives a truthy value; fails naming `what` after 30 s (a deadline, generous for a loaded machine). */
const until = async (what, fn) => {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} (30 s)`);
    await new Promise((r) => setTimeout(r, 20));
  }
};
/** The page draws after a message arrives: wait (up to 30 s) until the element's text matches. */
const textMatches = async (locator, re) => {
  let last = '';
  try { await until(String(re), async () => re.test(last = await locator.innerText())); } catch { assert.match(last, re); }
};

for (const theme of ['dark', 'light']) {
  const pg = await openPanelPage('predictions', { theme, width: 1100, height: 760 });
  const { page } = pg;
  // Chromium's own /favicon.ico request (the harness serves none) logs a 404 console error that no
  // page request reports; the page's requests are checked here instead.
  const failed = [];
  page.on('response', (r) => { if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`); });
  page.on('requestfailed', (r) => failed.push(`failed ${r.url()}`));
  try {
    await check(`${theme}: says ready, then explains the empty state`, async () => {
      await until('ready', async () => (await pg.posted()).some((m) => m.type === 'ready'));
      await pg.send({ type: 'checkpoints', items: ITEMS, selected: [A] });
      await textMatches(page.locator('.results .empty'), /Type text with \[MASK\]/);
      assert.equal(await lastRun(pg), undefined, 'no run without text');
    });

    await check(`${theme}: a text from the host is run with the selected checkpoint; two selected compare them`, async () => {
      await pg.send({ type: 'predictions/text', text: TEXT });
      const r1 = await until('a run', () => lastRun(pg));
      assert.deepEqual({ ...r1, requestId: 0 }, { type: 'predictions/run', requestId: 0, text: TEXT, checkpoints: [A], topK: 5 });
      assert.equal(await page.locator('#text').evaluate((e) => e.value), TEXT);
      await pg.send({ type: 'checkpoints', items: ITEMS, selected: [A, B] });
      const r2 = await until('a comparing run', async () => { const r = await lastRun(pg); return r.requestId !== r1.requestId && r; });
      assert.deepEqual(r2.checkpoints, [A, B]);
      assert.deepEqual(await page.evaluate(() => [document.querySelector('#first').value, document.querySelector('#second').value]), [A, B]);
      // The answer to the superseded request is dropped; the current one is drawn.
      await pg.send({ type: 'predictions/result', requestId: r1.requestId, columns: [RESULT[1]] });
      await pg.send({ type: 'predictions/result', requestId: r2.requestId, columns: RESULT });
    });

    await check(`${theme}: cards with both columns aligned, bars, percentages and top-1 agreement`, async () => {
      const cards = page.locator('.mask-card');
      assert.equal(await cards.count(), 2);
      assert.equal(await page.locator('.mask-card .cell').count(), 4);
      assert.equal(await page.locator('.mask-card .fill').count(), 20);
      assert.deepEqual(await cards.nth(0).locator('.cell.c0 .pct').allInnerTexts(), ['62.0%', '21.0%', '5.0%', '3.1%', '<0.1%']);
      assert.deepEqual(await cards.nth(0).locator('.cell.c1 .tok').allInnerTexts(), ['united', 'federal', 'free', 'southern', 'new']);
      assert.deepEqual(await cards.nth(0).locator('.cell.c0 .fill').evaluateAll((es) => es.map((e) => e.style.width)), ['62%', '21%', '5%', '3.1%', '0.04%']);
      const w = await cards.nth(0).locator('.cell.c0 .fill').first().evaluate((e) => e.getBoundingClientRect().width / e.parentElement.getBoundingClientRect().width);
      assert.ok(Math.abs(w - 0.62) < 0.01, `the top bar fills ${w} of its track`);
      await textMatches(cards.nth(0).locator('.agree'), /same top-1/);
      await textMatches(cards.nth(1).locator('.agree'), /top-1 differs/);
      await textMatches(cards.nth(1).locator('header .context'), /states met \[MASK\]\./);
      assert.deepEqual(await page.locator('.col-label').allInnerTexts(), ['mlm-base · step 500', 'mlm-base · final']);
      assert.equal(await page.locator('.chips button.chip').count(), 8, 'every token but [CLS], [SEP] and the masks is clickable');
      assert.equal(await page.locator('.chips .chip.special').count(), 2);
      await page.screenshot({ path: join(ART, `page-predictions-${theme}.png`), fullPage: true });
    });

    await check(`${theme}: clicking a token masks it in the text and runs`, async () => {
      const before = (await lastRun(pg)).requestId;
      await page.locator('.chips button.chip', { hasText: 'states' }).click();
      const r = await until('a run', async () => { const x = await lastRun(pg); return x.requestId !== before && x; });
      assert.equal(r.text, 'the congress of the [MASK] [MASK] met [MASK].');
      assert.deepEqual(r.checkpoints, [A, B]);
      assert.equal(await page.locator('#text').evaluate((e) => e.value), r.text);
    });

    await check(`${theme}: the whole-word button masks every piece of "met"`, async () => {
      await pg.send({ type: 'predictions/text', text: TEXT });
      const r = await until('a run', async () => { const x = await lastRun(pg); return x.text === TEXT && x; });
      await pg.send({ type: 'predictions/result', requestId: r.requestId, columns: RESULT });
      await page.locator('.word .whole').click();
      const w = await until('a run', async () => { const x = await lastRun(pg); return x.requestId !== r.requestId && x; });
      assert.equal(w.text, 'the congress of the [MASK] states [MASK] [MASK].');
    });

    await check(`${theme}: clicking a prediction puts it in place of its mask`, async () => {
      await pg.send({ type: 'predictions/text', text: TEXT });
      const r = await until('a run', async () => { const x = await lastRun(pg); return x.text === TEXT && x; });
      await pg.send({ type: 'predictions/result', requestId: r.requestId, columns: RESULT });
      await page.locator('.mask-card').nth(1).locator('.cell.c1 .pred', { hasText: 'yesterday' }).click();
      assert.equal(await page.locator('#text').evaluate((e) => e.value), 'the congress of the [MASK] states met yesterday.');
      const x = await until('a run', async () => { const y = await lastRun(pg); return y.requestId !== r.requestId && y; });
      assert.equal(x.text, 'the congress of the [MASK] states met yesterday.');
    });

    await check(`${theme}: Ctrl+Enter in the text runs it at once`, async () => {
      const typed = 'we the [MASK] of the united states';
      await page.locator('#text textarea').fill(typed);
      await page.locator('#text textarea').press('Control+Enter');
      const r = await lastRun(pg);
      assert.equal(r.text, typed);
      assert.deepEqual(r.checkpoints, [A, B]);
    });

    await check(`${theme}: "Choose a folder…" in the second list asks the host for a folder for slot 1`, async () => {
      await page.locator('#second').click();
      await page.locator('#second').getByRole('option', { name: 'Choose a folder…' }).click();
      const pick = await until('a pick', async () => (await pg.posted()).find((m) => m.type === 'predictions/pickCheckpoint'));
      assert.deepEqual(pick, { type: 'predictions/pickCheckpoint', slot: 1 });
      assert.equal(await page.evaluate(() => document.querySelector('#second').value), B, 'the select stays on the current checkpoint until the host answers');
    });

    await check(`${theme}: a checkpoint that fails shows its error in its column`, async () => {
      const r = await lastRun(pg);
      await pg.send({ type: 'predictions/result', requestId: r.requestId, columns: [{ ...RESULT[0], masks: RESULT[0].masks.slice(0, 1) }, { checkpoint: B, tokens: [], masks: [], warnings: [], ms: 3, error: `${B}: fill-mask needs a masked-LM checkpoint; this one is BertForSequenceClassification` }] });
      await textMatches(page.locator('.col-head.c1 .col-error'), /needs a masked-LM checkpoint/);
      await textMatches(page.locator('.mask-card .cell.c1'), /no prediction here/);
    });

    await check(`${theme}: an error from the host is shown inline`, async () => {
      await pg.send({ type: 'error', message: 'BERT Lab loads no checkpoint in an untrusted workspace' });
      const box = page.locator('.banner.error');
      assert.ok(await box.isVisible());
      await textMatches(box, /untrusted workspace/);
    });

    await check(`${theme}: a malformed message is dropped and logged, the page stays`, async () => {
      await pg.send({ type: 'predictions/result', requestId: 'x', columns: [] });
      const log = await until('a log', async () => (await pg.posted()).find((m) => m.type === 'log' && /dropped a message/.test(m.message)));
      assert.match(log.message, /requestId/);
      assert.equal(await page.locator('.mask-card').count(), 1);
    });

    await check(`${theme}: no page error, console error or CSP violation`, async () => {
      assert.deepEqual(pg.errors.filter((e) => !/^Failed to load resource: the server responded with a status of 404/.test(e)), [], JSON.stringify(pg.errors));
      assert.deepEqual(failed, []);
      assert.deepEqual((await pg.posted()).filter((m) => m.type === 'log' && m.level === 'error'), []);
    });
    await check(`${theme}: after a reload the page restores text, checkpoints, compare and top-k, and runs again`, async () => {
      const saved = await page.evaluate(() => ({ ...__state, text: 'we the [MASK] of the united states', first: '/ws/runs/mlm-base', second: '/ws/runs/mlm-base/checkpoint-500', compare: true, k: 7 }));
      // VS Code's getState survives a reload; the harness's stub does not, so the page is given the saved state.
      await page.context().addInitScript((st) => {
        let s = st;
        Object.defineProperty(window, 'acquireVsCodeApi', { configurable: true, set() {}, get: () => () => ({ postMessage: (m) => window.__posted.push(m), getState: () => s, setState: (v) => { s = v; } }) });
      }, saved);
      await page.reload();
      await until('ready', async () => (await pg.posted()).some((m) => m.type === 'ready'));
      await pg.send({ type: 'checkpoints', items: ITEMS, selected: [] });
      const r = await until('a run', () => lastRun(pg));
      assert.deepEqual({ ...r, requestId: 0 }, { type: 'predictions/run', requestId: 0, text: saved.text, checkpoints: [B, A], topK: 7 });
      assert.deepEqual(await page.evaluate(() => ['#text', '#first', '#second', '#topk'].map((q) => document.querySelector(q).value)), [saved.text, B, A, '7']);
      assert.deepEqual((await pg.posted()).filter((m) => m.type === 'log'), []);
    });
  } finally {
    await pg.close();
  }
}
finish();
