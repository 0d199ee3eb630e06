// Model families through the UI of a real VS Code (code-server + Chromium): for a RoBERTa and a
// DistilBERT model trained here by `bert-lab train`, hovering the model's own mask token (<mask>
// for RoBERTa, [MASK] for DistilBERT) shows predictions, and the attention panel draws the
// model's heads (no token types for either family). RoBERTa's run trains a byte-level BPE
// vocabulary (<s> … </s>, <mask>), DistilBERT's a WordPiece one. Screenshots go to .e2e/artifacts; with
// --docs they are also copied to docs/screenshots (kept in the repository).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, withWorkbench } from '../../scripts/e2e/run.mjs';

const require = createRequire(import.meta.url);
const docsCopy = process.argv.includes('--docs');
const FAMILIES = [
  { name: 'roberta', mask: '<mask>', tokenizer: { type: 'bpe', vocab_size: 800 }, model_config: { model_type: 'roberta', hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 64, max_position_embeddings: 66, type_vocab_size: 1 } },
  { name: 'distilbert', mask: '[MASK]', tokenizer: { vocab_size: 800 }, model_config: { model_type: 'distilbert', dim: 32, n_layers: 2, n_heads: 4, hidden_dim: 64, max_position_embeddings: 64 } },
];

const folder = mkdtempSync(join(tmpdir(), 'bertlab-families-'));
const docs = require(join(REPO_ROOT, 'node_modules', '@stdlib', 'datasets-sotu'))();
writeFileSync(join(folder, 'speeches.txt'), docs.slice(0, 40).flatMap((d) => d.text.split(/(?<=[.!?])\s+/)).join('\n') + '\n');
mkdirSync(join(folder, 'runs'), { recursive: true });
for (const f of FAMILIES) {
  writeFileSync(join(folder, `${f.name}.md`), `# ${f.name}\n\nThe state of the ${f.mask} is strong, and our people are ${f.mask}.\n`);
  writeFileSync(join(folder, `${f.name}.bertlab.json`), JSON.stringify({ output_dir: `runs/${f.name}-mlm`, task: 'mlm', train_file: 'speeches.txt', train_tokenizer: f.tokenizer,
    model_config: f.model_config, max_seq_length: 64, max_steps: 24, save_steps: 24, logging_steps: 4, steps_per_run: 4, learning_rate: 2e-3, per_device_train_batch_size: 8, device: 'cpu' }, null, 2));
  execFileSync(process.execPath, [join(REPO_ROOT, 'dist', 'cli.js'), 'train', join(folder, `${f.name}.bertlab.json`)], { stdio: 'ignore' });
}

/** The webview frame whose page is the given panel. */
async function panelFrame(page, kind, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const f of page.frames()) if (await f.evaluate(() => document.body?.dataset.panel).catch(() => undefined) === kind) return f;
    await page.waitForTimeout(250);
  }
  throw new Error(`no webview frame with the ${kind} panel after ${timeoutMs} ms`);
}
const painted = () => [...document.querySelectorAll('canvas')].filter((c) => {
  if (!c.width || !c.height) return false;
  const d = c.getContext('2d', { willReadFrequently: true }).getImageData(0, 0, c.width, c.height).data;
  for (let i = 4; i < d.length; i += 4) if (d[i] !== d[0] || d[i + 1] !== d[1] || d[i + 2] !== d[2]) return true;
  return false;
}).length;

let passed = 0, failed = false;
const check = async (what, fn) => { try { await fn(); passed++; console.log(`ok - ${what}`); } catch (e) { console.log(`not ok - ${what}: ${e.message.split('\n')[0]}`); throw e; } };
const keep = async (ctx, name) => {
  const p = await ctx.screenshot(name);
  console.log(`# ${p}`);
  if (docsCopy) { mkdirSync(join(REPO_ROOT, 'docs', 'screenshots'), { recursive: true }); copyFileSync(p, join(REPO_ROOT, 'docs', 'screenshots', name)); }
};
try {
  await withWorkbench({ folder, settings: { 'workbench.colorTheme': 'Default Dark Modern' } }, async (page, ctx) => {
    for (const f of FAMILIES) {
      await check(`${f.name}: hovering ${f.mask} shows the model's predictions`, async () => {
        await ctx.runCommand('BERT Lab: Set Active Checkpoint');
        const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: `${f.name}-mlm` }).first();
        await row.waitFor({ timeout: 30_000 });
        await row.click();
        await page.keyboard.press('Control+P');
        await page.keyboard.type(`${f.name}.md`);
        await page.waitForTimeout(800);
        await page.keyboard.press('Enter');
        const mask = page.locator('.view-lines span', { hasText: f.mask === '<mask>' ? /^mask$/ : /^MASK$/ }).first();
        await mask.waitFor({ timeout: 30_000 });
        await mask.hover();
        await page.locator('.monaco-hover', { hasText: '%' }).first().waitFor({ state: 'visible', timeout: 30_000 });
        await page.waitForTimeout(300);
        await keep(ctx, `hover-${f.name}.png`);
      });
      await check(`${f.name}: the attention panel draws the model's heads`, async () => {
        await page.keyboard.press('Escape');
        await page.keyboard.press('Control+G');
        await page.keyboard.type('3');
        await page.keyboard.press('Enter');
        await ctx.runCommand('BERT Lab: Show Attention');
        const fr = await panelFrame(page, 'attention');
        await fr.waitForFunction(painted, null, { timeout: 30_000 });
        await fr.waitForFunction(() => document.body.innerText.includes('<mask>') || document.body.innerText.includes('[MASK]'), null, { timeout: 30_000 });
        if (/token.?type|segment B/i.test(await fr.evaluate(() => document.body.innerText))) throw new Error('the panel shows token types for a family without them');
        await page.waitForTimeout(800);
        await keep(ctx, `attention-${f.name}.png`);
        await page.locator('.tab', { hasText: `${f.name}.md` }).first().click();
        await ctx.runCommand('View: Close All Editors');
      });
    }
  });
} catch {
  failed = true;
}
console.log(`${passed} passed, ${failed ? 1 : 0} failed`);
process.exit(failed ? 1 : 0);
