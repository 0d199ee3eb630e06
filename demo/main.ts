/**
 * The README's demo: on State of the Union text shipped in an npm package (addresses of years
 * divisible by 5 held out), pretrain a small BERT from scratch with the "quick-pretraining" recipe
 * (a WordPiece vocabulary trained first, a 10-minute budget), show fill-mask and held-out
 * masked-token accuracy before and after, then fine-tune it to tell the era of a sentence — from
 * the pretrained model and, for comparison, from random weights — and report both accuracies: the
 * transfer gain. All with the trainer the CLI and the extension use, sessions in a worker.
 *
 *   DEMO_PRETRAIN_TIME=10m DEMO_FINETUNE_STEPS=300 npm run demo
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseTrainingConfig } from '../src/engine/train/config.js';
import { Trainer, TrainerEvent } from '../src/engine/train/trainer.js';
import { evaluateCheckpoint } from '../src/engine/train/evaluate.js';
import { BertPipeline } from '../src/engine/infer/pipeline.js';
import { EngineWorker } from '../src/engine/runtime/worker-client.js';
import { saveCheckpoint } from '../src/engine/models/bert/folder.js';
import { BertForMaskedLM } from '../src/engine/models/bert/heads.js';
import { Rng } from '../src/engine/data/rng.js';
import { writeSotuData } from './data.js';
import { fineTuneEra } from './transfer.js';

const OUT = resolve(process.env['DEMO_OUT'] ?? 'demo-output');
const PRETRAIN_TIME = process.env['DEMO_PRETRAIN_TIME'] ?? '10m';
const FINETUNE_STEPS = Number(process.env['DEMO_FINETUNE_STEPS'] ?? 300);
const PROBES = [
  'The state of the [MASK] is strong.',
  'We must protect the rights of every [MASK].',
  'Congress should pass this [MASK] without delay.',
  'Our armed [MASK] are the finest in the world.',
  'I ask the Congress to [MASK] taxes for working families.',
];
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

async function main() {
  const t0 = Date.now();
  const dataDir = join(OUT, 'data');
  mkdirSync(dataDir, { recursive: true });
  const data = writeSotuData(dataDir);
  console.log(`BERT Lab demo — ${data.sizes.pretrain} State of the Union sentences to pretrain on; ${data.sizes.heldOut} sentences of held-out addresses to test masked-word prediction; era classification: ${data.sizes.eraTrain} training sentences, ${data.sizes.eraTest} test sentences from the held-out addresses`);
  const worker = new EngineWorker();
  const device = (process.env['BERT_LAB_DEVICE'] ?? 'auto') as 'auto';
  const runnerFor = (m: Uint8Array) => worker.createSession(m, { device, purpose: 'train' });
  const inferRunner = (m: Uint8Array) => worker.createSession(m, { device: 'cpu', purpose: 'infer' });
  const heldOutAccuracy = async (folder: string) => {
    const ev = await evaluateCheckpoint(folder, { data: data.heldOut, mlmProbability: 0.15, maxSeqLength: 64, batchSize: 64, runnerFor: inferRunner });
    return { accuracy: ev.metrics['eval_accuracy']!, loss: ev.metrics['eval_loss']! };
  };
  const showFillMask = async (title: string, folder: string) => {
    const pipe = BertPipeline.load(folder, { runnerFor: inferRunner });
    const m = await heldOutAccuracy(folder);
    console.log(`\n${title} held-out masked-token accuracy ${pct(m.accuracy)} (15% of tokens masked; loss ${m.loss.toFixed(2)})`);
    for (const p of PROBES) {
      const r = await pipe.fillMask(p, { topK: 5 });
      console.log(`  ${p.padEnd(58)} → ${r.masks[0]!.predictions.map((x) => `${x.token} (${(100 * x.score).toFixed(0)}%)`).join(', ')}`);
    }
    await pipe.dispose();
  };
  try {
    // 1. Pretraining (masked LM) with the measured recipe, from a tokenizer trained on the same text.
    const pre = parseTrainingConfig(JSON.stringify({
      output_dir: join(OUT, 'pretrain'), overwrite_output_dir: true, task: 'mlm', recipe: 'quick-pretraining', line_by_line: true, max_time: PRETRAIN_TIME,
      train_file: data.pretrain, validation_file: data.heldOut, per_device_eval_batch_size: 64,
      logging_steps: 500, eval_strategy: 'no', save_strategy: 'no', steps_per_run: 10, seed: 42,
    }), join(OUT, 'pretrain.json'));
    const trainer = await Trainer.create(pre, { runnerFor, log: (s) => console.log(`  ${s}`) });
    // Before training: the same architecture and tokenizer, freshly initialized.
    const init = join(OUT, 'untrained');
    const m = new BertForMaskedLM({ ...trainer.model.cfg });
    const r3 = new Rng(3);
    saveCheckpoint(init, m, m.ps.initialize(() => r3.next()), { tokenizerFrom: join(OUT, 'pretrain', 'tokenizer') });
    await showFillMask('before pretraining (random weights):', init);
    const c = pre.model_config!;
    console.log(`\npretraining a ${(m.ps.count() / 1e6).toFixed(1)}M-parameter BERT (L${c.num_hidden_layers}/H${c.hidden_size}, vocabulary ${m.cfg.vocab_size}) for ${PRETRAIN_TIME} with the "quick-pretraining" recipe: no dropout, ${pre.max_seq_length}-token sentences, ${pct(pre.mlm_probability)} of tokens masked, lr ${pre.learning_rate} decaying to 0 at the budget; the loss starts near ln ${m.cfg.vocab_size} = ${Math.log(m.cfg.vocab_size).toFixed(2)}:`);
    let sum = 0, n = 0;
    trainer.on((e: TrainerEvent) => {
      if (e.type === 'step') { sum += e.loss; n++; }
      if (e.type === 'step' && e.step % 500 === 0) {
        console.log(`  step ${String(e.step).padStart(5)}  loss ${(sum / n).toFixed(3)} (mean of the last ${n})  ${(e.tokens_per_second / 1000).toFixed(1)}k tokens/s`);
        sum = 0; n = 0;
      }
    });
    const pr = await trainer.train();
    await showFillMask(`after pretraining (${pr.step} steps):`, join(OUT, 'pretrain'));

    // 2. Fine-tuning: the era of a sentence, from the pretrained model (transfer) and from random weights.
    console.log(`\nfine-tuning to tell the era of a sentence (${FINETUNE_STEPS} steps), from the pretrained model and from random weights:`);
    const from = {} as Record<'pretrained' | 'random', { accuracy: number; f1: number }>;
    for (const kind of ['pretrained', 'random'] as const) {
      from[kind] = await fineTuneEra({ data, pretrained: join(OUT, 'pretrain'), from: kind, outDir: join(OUT, `era-${kind}`), seed: 42, steps: FINETUNE_STEPS, runnerFor });
      console.log(`  from ${kind.padEnd(10)} accuracy ${pct(from[kind].accuracy)}, macro F1 ${pct(from[kind].f1)}`);
    }
    console.log(`\nera of held-out sentences: ${pct(from.pretrained.accuracy)} fine-tuned from the pretrained model vs ${pct(from.random.accuracy)} from random weights — transfer gain ${(100 * (from.pretrained.accuracy - from.random.accuracy)).toFixed(1)} points (majority class ${pct(data.majority)})`);
    console.log(`models: ${join(OUT, 'pretrain')} (masked LM), ${join(OUT, 'era-pretrained')} (classifier) — Hugging Face folders; total ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  } finally {
    await worker.terminate();
  }
}

main().catch((e) => { console.error(e instanceof Error ? e.message : e); process.exit(1); });
