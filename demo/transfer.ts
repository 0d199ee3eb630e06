/**
 * Fine-tuning the era classifier (demo/data.ts) from a pretrained masked LM and, for comparison,
 * from random weights of the same shape with the same tokenizer: the transfer gain. Used by the
 * demo and by bench/pretrain.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseTrainingConfig } from '../src/engine/train/config.js';
import { RunnerFactory, Trainer, TrainerEvent } from '../src/engine/train/trainer.js';
import type { SotuFiles } from './data.js';

/** config.json fields that give a model its shape and regularization: a random model like `folder`'s. */
const SHAPE = ['model_type', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'max_position_embeddings', 'type_vocab_size', 'hidden_act', 'hidden_dropout_prob', 'attention_probs_dropout_prob', 'pad_token_id'];

export interface EraResult { accuracy: number; f1: number; seconds: number }

/** Fine-tunes on the era task from `pretrained` (from: 'pretrained') or from random weights shaped like it (from: 'random'). */
export async function fineTuneEra(o: {
  data: SotuFiles; pretrained: string; from: 'pretrained' | 'random'; outDir: string; seed: number; steps: number;
  runnerFor?: RunnerFactory; log?: (s: string) => void; on?: (e: TrainerEvent) => void;
}): Promise<EraResult> {
  const cfg = JSON.parse(readFileSync(join(o.pretrained, 'config.json'), 'utf8')) as Record<string, unknown>;
  const model = o.from === 'pretrained' ? { model_name_or_path: o.pretrained }
    : { tokenizer_name: o.pretrained, model_config: Object.fromEntries(SHAPE.filter((k) => cfg[k] !== undefined).map((k) => [k, cfg[k]])) };
  const ft = parseTrainingConfig(JSON.stringify({
    output_dir: o.outDir, overwrite_output_dir: true, task: 'classification', ...model,
    train_file: o.data.eraTrain, validation_file: o.data.eraTest, max_seq_length: 64, learning_rate: 5e-4, warmup_ratio: 0.1,
    max_steps: o.steps, per_device_train_batch_size: 32, per_device_eval_batch_size: 64, logging_steps: 50, eval_strategy: 'steps', eval_steps: o.steps,
    save_strategy: 'no', steps_per_run: 10, seed: o.seed,
  }), join(o.outDir, '..', `${o.from}-${o.seed}.json`));
  const t0 = Date.now();
  const t = await Trainer.create(ft, { ...(o.runnerFor ? { runnerFor: o.runnerFor } : {}), ...(o.log ? { log: o.log } : {}) });
  if (o.on) t.on(o.on);
  const r = await t.train();
  return { accuracy: r.lastEval?.['eval_accuracy'] ?? NaN, f1: r.lastEval?.['eval_f1'] ?? NaN, seconds: (Date.now() - t0) / 1000 };
}
