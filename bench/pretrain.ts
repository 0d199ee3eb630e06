/**
 * npm run bench:pretrain — what pretraining on a laptop budget buys, measured. For each recipe:
 * pretraining on State of the Union text with whole addresses held out (demo/data.ts), eval
 * during training (at the recipe's own masking rate), then the final model's held-out
 * masked-token accuracy at the standard 15% (comparable across recipes), and with
 * BENCH_TRANSFER=1 the era classifier fine-tuned from it and from random weights (3 seeds each):
 * the transfer gain. Prints numbers; asserts nothing.
 *
 *   BENCH_RECIPES=plateau,quick,electra  BENCH_TIME=10m  BENCH_TRANSFER=1  npm run bench:pretrain
 *   BENCH_STEPS=2000 fixes the steps instead of the time (compares recipes step for step).
 */
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseTrainingConfig } from '../src/engine/train/config.js';
import { Trainer } from '../src/engine/train/trainer.js';
import { evaluateCheckpoint } from '../src/engine/train/evaluate.js';
import { RECIPES as NAMED } from '../src/engine/train/recipes.js';
import { writeSotuData } from '../demo/data.js';
import { fineTuneEra } from '../demo/transfer.js';

const OUT = resolve(process.env['BENCH_OUT'] ?? join(tmpdir(), 'bert-lab-bench-pretrain'));
const STEPS = Number(process.env['BENCH_STEPS'] ?? 0);
const TIME = process.env['BENCH_TIME'] ?? (STEPS ? undefined : '10m');
const EVAL_EVERY = Number(process.env['BENCH_EVAL_EVERY'] ?? 1000);
const TRANSFER = process.env['BENCH_TRANSFER'] === '1';
const SEEDS = [1, 2, 3], FINETUNE_STEPS = Number(process.env['BENCH_FINETUNE_STEPS'] ?? 300);

const noDropout = { hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 };
const tiny = { hidden_size: 128, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 512, max_position_embeddings: 128 };
/** The settings a user copies from a tutorial (the issue's starting point: the unigram plateau). */
const PLATEAU = {
  task: 'mlm', line_by_line: true, train_tokenizer: { vocab_size: 8192 }, model_config: tiny,
  max_seq_length: 128, per_device_train_batch_size: 32, learning_rate: 1e-3, warmup_ratio: 0.06, weight_decay: 0.01,
};
const quick = NAMED['quick-pretraining']!.values;
/** Each lever alone on top of the plateau settings ("+…" adds to the row above it), then the recipe, variations of it, and ELECTRA at the same budget. */
const RECIPES: Record<string, Record<string, unknown>> = {
  plateau: PLATEAU,
  '+no dropout': { ...PLATEAU, model_config: { ...tiny, ...noDropout } },
  '+seq 64': { ...PLATEAU, model_config: { ...tiny, ...noDropout }, max_seq_length: 64 },
  '+vocab 4096': { ...PLATEAU, model_config: { ...tiny, ...noDropout }, max_seq_length: 64, train_tokenizer: { vocab_size: 4096 } },
  '+mask 30%': { ...PLATEAU, model_config: { ...tiny, ...noDropout }, max_seq_length: 64, train_tokenizer: { vocab_size: 4096 }, mlm_probability: 0.3 },
  quick: { task: 'mlm', line_by_line: true, recipe: 'quick-pretraining' },
  'quick+packed': { task: 'mlm', line_by_line: false, recipe: 'quick-pretraining' },
  'quick+whole words': { task: 'mlm', line_by_line: true, recipe: 'quick-pretraining', whole_word_masking: true },
  'quick+lr 2e-3': { task: 'mlm', line_by_line: true, recipe: 'quick-pretraining', learning_rate: 2e-3 },
  'quick+batch 64': { task: 'mlm', line_by_line: true, recipe: 'quick-pretraining', per_device_train_batch_size: 64 },
  'quick+mask 40%': { task: 'mlm', line_by_line: true, recipe: 'quick-pretraining', mlm_probability: 0.4 },
  'quick+L4/H256': { task: 'mlm', line_by_line: true, recipe: 'quick-pretraining', model_config: { hidden_size: 256, num_hidden_layers: 4, num_attention_heads: 4, intermediate_size: 1024 } },
  'electra': { task: 'electra', line_by_line: true, train_tokenizer: quick['train_tokenizer'], max_seq_length: 64, mlm_probability: 0.15,
    model_config: { model_type: 'electra', embedding_size: 128, ...tiny, ...noDropout }, learning_rate: 1e-3, warmup_ratio: 0.06, weight_decay: 0.01, per_device_train_batch_size: 32 },
};

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function main() {
  mkdirSync(OUT, { recursive: true });
  const data = writeSotuData(OUT);
  console.log(`data: ${data.sizes.pretrain} pretraining sentences; ${data.sizes.heldOut} held-out sentences (addresses of years divisible by 5); era task ${data.sizes.eraTrain} / ${data.sizes.eraTest}; budget ${TIME ?? `${STEPS} steps`}`);
  const names = (process.env['BENCH_RECIPES'] ?? 'plateau,+no dropout,+seq 64,+vocab 4096,+mask 30%,quick').split(',');
  const rows: string[] = [];
  const transfer: string[] = [];
  for (const name of names) {
    const r = RECIPES[name];
    if (!r) throw new Error(`unknown recipe "${name}"; known: ${Object.keys(RECIPES).join(', ')}`);
    const dir = join(OUT, name.replace(/[^\w.-]+/g, '_'));
    const cfg = parseTrainingConfig(JSON.stringify({
      ...r, output_dir: dir, overwrite_output_dir: true, train_file: data.pretrain, validation_file: data.heldOut,
      ...(TIME ? { max_time: TIME } : { max_steps: STEPS }), logging_steps: 100, eval_strategy: 'steps', eval_steps: EVAL_EVERY, save_strategy: 'no',
      steps_per_run: 10, per_device_eval_batch_size: 128, seed: 42, device: 'cpu',
    }), join(OUT, 'bench.json'));
    const t = await Trainer.create(cfg, {});
    let t0 = 0;
    t.on((e) => {
      if (e.type === 'step' && t0 === 0) t0 = Date.now();
      if (e.type === 'eval') {
        const acc = e.metrics['eval_accuracy'] ?? e.metrics['eval_generator_accuracy'];
        console.log(`  ${name}: step ${e.step}, ${((Date.now() - t0) / 1000).toFixed(0)} s: eval loss ${e.metrics['eval_loss']!.toFixed(3)}${acc !== undefined ? `, masked-token accuracy ${pct(acc)} (at the run's masking rate)` : ''}`);
      }
    });
    const res = await t.train();
    const seconds = (Date.now() - t0) / 1000;
    let final = '';
    if (cfg.task === 'mlm') {
      const ev = await evaluateCheckpoint(dir, { data: data.heldOut, mlmProbability: 0.15, maxSeqLength: 64, batchSize: 128 });
      final = `loss ${ev.metrics['eval_loss']!.toFixed(3)}  accuracy ${pct(ev.metrics['eval_accuracy']!)}`;
    } else final = `(ELECTRA: RTD accuracy ${pct(res.lastEval?.['eval_rtd_accuracy'] ?? NaN)}, generator accuracy ${pct(res.lastEval?.['eval_generator_accuracy'] ?? NaN)})`;
    const row = `${name.padEnd(24)} ${String(res.step).padStart(6)} ${seconds.toFixed(0).padStart(5)} s  ${final}`;
    rows.push(row);
    console.log(row);
    if (TRANSFER) {
      const acc: Record<'pretrained' | 'random', number[]> = { pretrained: [], random: [] };
      for (const seed of SEEDS) {
        for (const from of ['pretrained', 'random'] as const) {
          const ft = await fineTuneEra({ data, pretrained: dir, from, outDir: join(dir, `era-${from}-${seed}`), seed, steps: FINETUNE_STEPS });
          acc[from].push(ft.accuracy);
          console.log(`  ${name}: era from ${from}, seed ${seed}: accuracy ${pct(ft.accuracy)}`);
        }
      }
      transfer.push(`${name.padEnd(24)} pretrained ${pct(mean(acc.pretrained))}  random ${pct(mean(acc.random))}  gain ${((mean(acc.pretrained) - mean(acc.random)) * 100).toFixed(1)} points  (${SEEDS.length} seeds: ${acc.pretrained.map(pct).join(', ')} vs ${acc.random.map(pct).join(', ')})`);
    }
  }
  console.log(`\n${'recipe'.padEnd(24)} ${'steps'.padStart(6)} ${'time'.padStart(7)}  held-out masked LM at 15% masking\n${rows.join('\n')}`);
  if (transfer.length) console.log(`\nera of held-out sentences after ${FINETUNE_STEPS} fine-tuning steps (majority class ${pct(data.majority)}):\n${transfer.join('\n')}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
