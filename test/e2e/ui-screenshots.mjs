// Through the UI of a real VS Code (code-server + Chromium): the BERT Lab sidebar with a trained
// run and its checkpoints, the Models view listing a Hugging Face cache, and a hover showing predictions on a [MASK]. Screenshots go to
// .e2e/artifacts (kept by CI). Exits non-zero when an expected element does not appear.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { REPO_ROOT, withWorkbench } from '../../scripts/e2e/run.mjs';

const require = createRequire(import.meta.url);
const folder = mkdtempSync(join(tmpdir(), 'bertlab-ui-'));
const docs = require(join(REPO_ROOT, 'node_modules', '@stdlib', 'datasets-sotu'))();
writeFileSync(join(folder, 'speeches.txt'), docs.slice(0, 40).flatMap((d) => d.text.split(/(?<=[.!?])\s+/)).join('\n') + '\n');
writeFileSync(join(folder, 'notes.md'), '# Notes\n\nThe state of the [MASK] is strong, and our people are [MASK].\n');
mkdirSync(join(folder, 'runs'), { recursive: true });
writeFileSync(join(folder, 'ui.bertlab.json'), JSON.stringify({ output_dir: 'runs/sotu-mlm', task: 'mlm', train_file: 'speeches.txt', train_tokenizer: { vocab_size: 800 },
  model_config: { hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 64, max_position_embeddings: 64 },
  max_seq_length: 64, max_steps: 24, save_steps: 8, eval_strategy: 'steps', eval_steps: 8, logging_steps: 2, steps_per_run: 2, learning_rate: 2e-3, per_device_train_batch_size: 8, device: 'cpu' }, null, 2));
execFileSync(process.execPath, [join(REPO_ROOT, 'dist', 'cli.js'), 'train', join(folder, 'ui.bertlab.json')], { stdio: 'ignore' });

// A Hugging Face cache in huggingface_hub's layout holding the tiny BERT fixture as "org/tiny-bert"
// (blobs named by sha256 / git sha1, refs/main, snapshot files as relative symlinks); code-server
// and its extension host get it as HF_HUB_CACHE.
const hfCache = join(mkdtempSync(join(tmpdir(), 'bertlab-ui-hf-')), 'hub');
{
  const repo = join(hfCache, 'models--org--tiny-bert'), commit = createHash('sha1').update('org/tiny-bert ui').digest('hex');
  for (const f of ['config.json', 'model.safetensors', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt']) {
    const data = readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'hf-tiny-bert', f));
    const etag = f.endsWith('.safetensors') ? createHash('sha256').update(data).digest('hex') : createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');
    const blob = join(repo, 'blobs', etag), pointer = join(repo, 'snapshots', commit, f);
    mkdirSync(dirname(blob), { recursive: true }); mkdirSync(dirname(pointer), { recursive: true });
    writeFileSync(blob, data);
    symlinkSync(relative(dirname(pointer), blob), pointer);
  }
  mkdirSync(join(repo, 'refs'), { recursive: true });
  writeFileSync(join(repo, 'refs', 'main'), commit);
}
process.env.HF_HUB_CACHE = hfCache;
process.env.HF_HUB_OFFLINE = '1';

/** The webview frame whose page is the given panel (webviews are nested iframes). */
async function panelFrame(page, kind, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const f of page.frames()) {
      const k = await f.evaluate(() => document.body?.dataset.panel).catch(() => undefined);
      if (k === kind) return f;
    }
    await page.waitForTimeout(250);
  }
  throw new Error(`no webview frame with the ${kind} panel after ${timeoutMs} ms`);
}
/** Defines window.paintedCanvas(c): whether a canvas has pixels of more than one colour. */
function definePaintedCanvas() {
  window.paintedCanvas = (c) => {
    if (!c.width || !c.height) return false;
    const x = c.getContext('2d', { willReadFrequently: true });
    if (!x) return false;
    const d = x.getImageData(0, 0, c.width, c.height).data;
    for (let i = 4; i < d.length; i += 4) if (d[i] !== d[0] || d[i + 1] !== d[1] || d[i + 2] !== d[2] || d[i + 3] !== d[3]) return true;
    return false;
  };
}
async function noCspViolations(frame, kind) {
  const n = await frame.evaluate(() => document.body.dataset.cspViolations ?? '0');
  if (n !== '0') throw new Error(`${n} CSP violation(s) in the ${kind} panel`);
}

let passed = 0;
const check = async (what, fn) => { try { await fn(); passed++; console.log(`ok - ${what}`); } catch (e) { console.log(`not ok - ${what}: ${e.message.split('\n')[0]}`); throw e; } };
let failed = false;
try {
  await withWorkbench({ folder, settings: { 'workbench.colorTheme': 'Default Dark Modern' } }, async (page, ctx) => {
    await check('the Runs view lists the run and, expanded, its checkpoints', async () => {
      await ctx.runCommand('BERT Lab: Focus on Runs View');
      const run = page.locator('.monaco-list-row', { hasText: 'sotu-mlm' }).first();
      await run.waitFor({ timeout: 30_000 });
      await run.click();
      await page.locator('.monaco-list-row', { hasText: 'step 24' }).first().waitFor({ timeout: 30_000 });
      await page.waitForTimeout(500);
      console.log(`# ${await ctx.screenshot('sidebar-runs.png')}`);
    });
    await check('the Models view lists the Hugging Face cache\'s org/tiny-bert with its revision and size, loadable', async () => {
      await ctx.runCommand('BERT Lab: Focus on Models View');
      const row = page.locator('.monaco-list-row', { hasText: 'org/tiny-bert' }).first();
      await row.waitFor({ timeout: 30_000 });
      const text = await row.innerText();
      if (!/main · [\d.]+ kB/.test(text) || /cannot load/.test(text)) throw new Error(`the row reads "${text.replace(/\s+/g, ' ')}"`);
      await page.waitForTimeout(500);
      console.log(`# ${await ctx.screenshot('sidebar-models.png')}`);
    });
    await check('hovering a [MASK] shows the active checkpoint\'s predictions', async () => {
      await ctx.runCommand('BERT Lab: Set Active Checkpoint');
      await page.locator('.quick-input-widget .monaco-list-row').first().waitFor({ timeout: 30_000 });
      await page.keyboard.press('Enter');
      await page.keyboard.press('Control+P');
      await page.keyboard.type('notes.md');
      await page.waitForTimeout(800);
      await page.keyboard.press('Enter');
      // Monaco splits "[MASK]" into several spans; hover the word inside the brackets.
      const mask = page.locator('.view-lines span', { hasText: /^MASK$/ }).first();
      await mask.waitFor({ timeout: 30_000 });
      await mask.hover();
      const hover = page.locator('.monaco-hover', { hasText: '%' }).first();
      await hover.waitFor({ state: 'visible', timeout: 30_000 });
      await page.waitForTimeout(300);
      console.log(`# ${await ctx.screenshot('hover-predictions.png')}`);
    });
    const panels = [
      // [kind, command, tab title, what must be on the page once it has drawn its data]
      ['curves', 'BERT Lab: Show Training Curves', 'Training Curves', async (f) => {
        await f.locator('canvas').first().waitFor({ timeout: 30_000 });
        await f.getByText('sotu-mlm').first().waitFor({ timeout: 30_000 });
        if (!(await f.evaluate(() => [...document.querySelectorAll('canvas')].some(paintedCanvas)))) throw new Error('no chart has been drawn');
      }],
      ['predictions', 'BERT Lab: Open Predictions Panel', 'Predictions', async (f) => {
        await f.getByText('%').first().waitFor({ timeout: 30_000 });
      }],
      ['attention', 'BERT Lab: Show Attention', 'Attention', async (f) => {
        await f.locator('canvas').first().waitFor({ timeout: 30_000 });
        await f.waitForFunction(() => [...document.querySelectorAll('canvas')].filter(paintedCanvas).length >= 2, null, { timeout: 30_000 });
      }],
    ];
    for (const [kind, command, , ready] of panels) {
      await check(`the ${kind} panel opens from the palette and draws the run's data (dark theme)`, async () => {
        await page.keyboard.press('Control+G');
        await page.keyboard.type('3');
        await page.keyboard.press('Enter');
        await ctx.runCommand(command);
        const f = await panelFrame(page, kind);
        await f.evaluate(definePaintedCanvas);
        await ready(f);
        await page.waitForTimeout(800);
        await noCspViolations(f, kind);
        console.log(`# ${await ctx.screenshot(`panel-${kind}-dark.png`)}`);
        // Back to the editor for the next command (it reads the line with the masks).
        await page.locator('.tab', { hasText: 'notes.md' }).first().click();
      });
    }
    await check('in a light theme, each panel redraws with the theme\'s colours', async () => {
      await ctx.runCommand('Preferences: Color Theme');
      await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'Light Modern' }).first().waitFor({ timeout: 30_000 });
      await page.keyboard.type('Light Modern');
      await page.waitForTimeout(500);
      await page.keyboard.press('Enter');
      await page.locator('.monaco-workbench.vs').waitFor({ timeout: 30_000 });
      for (const [kind, , title, ready] of panels) {
        await page.locator('.tab', { hasText: title }).first().click();
        const f = await panelFrame(page, kind);
        await f.waitForFunction(() => document.body.classList.contains('vscode-light'), null, { timeout: 30_000 });
        await f.evaluate(definePaintedCanvas);
        await ready(f);
        await page.waitForTimeout(800);
        await noCspViolations(f, kind);
        console.log(`# ${await ctx.screenshot(`panel-${kind}-light.png`)}`);
      }
    });
    await check('after Reload Window, the panels come back (serializers) and draw their data again', async () => {
      await ctx.runCommand('Developer: Reload Window');
      await page.waitForTimeout(1500);
      await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
      for (const [kind, , title, ready] of panels) {
        const tab = page.locator('.tab', { hasText: title }).first();
        await tab.waitFor({ timeout: 30_000 });
        await tab.click();
        const f = await panelFrame(page, kind, 60_000);
        await f.evaluate(definePaintedCanvas);
        await ready(f);
        await noCspViolations(f, kind);
      }
      console.log(`# ${await ctx.screenshot('panels-after-reload.png')}`);
    });
  });
} catch {
  failed = true;
}
console.log(`${passed} passed, ${failed ? 1 : 0} failed`);
process.exit(failed ? 1 : 0);
