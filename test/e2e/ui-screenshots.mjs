// Through the UI of a real VS Code (code-server + Chromium): the BERT Lab sidebar with a trained
// run and its checkpoints, and a hover showing predictions on a [MASK]. Screenshots go to
// .e2e/artifacts (kept by CI). Exits non-zero when an expected element does not appear.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, withWorkbench } from '../../scripts/e2e/run.mjs';

const require = createRequire(import.meta.url);
const folder = mkdtempSync(join(tmpdir(), 'bertlab-ui-'));
const docs = require(join(REPO_ROOT, 'node_modules', '@stdlib', 'datasets-sotu'))();
writeFileSync(join(folder, 'speeches.txt'), docs.slice(0, 40).flatMap((d) => d.text.split(/(?<=[.!?])\s+/)).join('\n') + '\n');
writeFileSync(join(folder, 'notes.md'), '# Notes\n\nThe state of the [MASK] is strong, and our people are [MASK].\n');
mkdirSync(join(folder, 'runs'), { recursive: true });
writeFileSync(join(folder, 'ui.bertlab.json'), JSON.stringify({ output_dir: 'runs/sotu-mlm', task: 'mlm', train_file: 'speeches.txt', train_tokenizer: { vocab_size: 800 },
  model_config: { hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 64 },
  max_seq_length: 64, max_steps: 12, save_steps: 6, eval_strategy: 'steps', eval_steps: 6, logging_steps: 3, steps_per_run: 3, per_device_train_batch_size: 8, device: 'cpu' }, null, 2));
execFileSync(process.execPath, [join(REPO_ROOT, 'dist', 'cli.js'), 'train', join(folder, 'ui.bertlab.json')], { stdio: 'ignore' });

const check = async (what, fn) => { try { await fn(); console.log(`ok - ${what}`); } catch (e) { console.log(`not ok - ${what}: ${e.message.split('\n')[0]}`); throw e; } };
let failed = false;
try {
  await withWorkbench({ folder }, async (page, ctx) => {
    await check('the Runs view lists the run and, expanded, its checkpoints', async () => {
      await ctx.runCommand('BERT Lab: Focus on Runs View');
      const run = page.locator('.monaco-list-row', { hasText: 'sotu-mlm' }).first();
      await run.waitFor({ timeout: 30_000 });
      await run.click();
      await page.locator('.monaco-list-row', { hasText: 'step 12' }).first().waitFor({ timeout: 30_000 });
      await page.waitForTimeout(500);
      console.log(`# ${await ctx.screenshot('sidebar-runs.png')}`);
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
  });
} catch {
  failed = true;
}
console.log(failed ? '0 passed, 1 failed' : '2 passed, 0 failed');
process.exit(failed ? 1 : 0);
