/**
 * Task "electra": ELECTRA pretraining (models/electra/pretraining.ts) on MLM data. The batches
 * are the MLM collator's (masked input, masked positions, their original tokens); the train step
 * samples the generator's replacements and scores the discriminator in-graph. Evaluation masks
 * the held-out sequences once with a fixed seed and samples with a fixed seed, so evaluations
 * compare: the generator's MLM loss and accuracy, the discriminator's loss, its accuracy over
 * every attended token (rtd_accuracy), and precision and recall of the "replaced" class.
 */
import { topK } from '../autodiff/index.js';
import { Graph, Value } from '../ir/graph.js';
import { ParamValues } from '../nn/module.js';
import { ElectraPreTrainingModel } from '../models/electra/pretraining.js';
import { ModelRunner } from '../runtime/runner.js';
import { tensor } from '../runtime/tensor.js';
import { MlmSequence } from '../data/collate-mlm.js';
import { WordPieceTokenizer } from '../tokenizer/index.js';
import { MlmMetrics } from './metrics.js';
import { MLM_EVAL_SEED, MlmTask, TaskModel, paramFeeds, paramInputs } from './tasks.js';

type Specs = { name: string; shape: number[] }[];

/** Replaced-token detection over attended tokens: accuracy, and precision/recall of "replaced" (sklearn's zero_division 0). */
export class RtdMetrics {
  private tp = 0; private fp = 0; private fn = 0; private tn = 0;
  /** Discriminator logits (> 0: "replaced"), labels (1 = replaced) and the attention mask, flat. */
  add(logits: ArrayLike<number>, labels: ArrayLike<number>, mask: ArrayLike<number>): void {
    for (let i = 0; i < labels.length; i++) {
      if (!mask[i]) continue;
      const pred = logits[i]! > 0, y = labels[i] === 1;
      if (pred && y) this.tp++; else if (pred) this.fp++; else if (y) this.fn++; else this.tn++;
    }
  }
  result(): { rtd_accuracy: number; replaced_precision: number; replaced_recall: number } {
    const n = this.tp + this.fp + this.fn + this.tn;
    return {
      rtd_accuracy: n ? (this.tp + this.tn) / n : 0,
      replaced_precision: this.tp + this.fp ? this.tp / (this.tp + this.fp) : 0,
      replaced_recall: this.tp + this.fn ? this.tp / (this.tp + this.fn) : 0,
    };
  }
}

/** ELECTRA pretraining on sequences held in memory (the MLM task's data, sampler and collator). */
export class ElectraTask extends MlmTask {
  constructor(readonly model: ElectraPreTrainingModel, ...args: ConstructorParameters<typeof MlmTask>) { super(...args); }

  override loss(_model: TaskModel, p: ParamValues, b: Record<string, Value>, seed: Value): Value {
    const k = (s: string) => b[this.key(s)]!;
    return this.model.forward(p, { inputIds: k('input_ids'), attentionMask: k('attention_mask') }, k('positions'), k('labels'), seed, seed).loss;
  }

  override async evaluate(_model: TaskModel, params: Record<string, Float32Array>, specs: Specs, runnerFor: (m: Uint8Array) => Promise<ModelRunner>): Promise<Record<string, number>> {
    const seqs = this.evalSeqs, B = this.batchSize, buckets = this.buckets;
    if (seqs.length === 0) return {};
    this.evalCollator.restore({ rngState: MLM_EVAL_SEED, targets: 0, dropped: 0 });
    const gen = new MlmMetrics(), rtd = new RtdMetrics();
    let loss = 0, discLoss = 0, rows = 0;
    const feeds = paramFeeds(specs, params);
    for (let i = 0; i < seqs.length; i += B) {
      const chunk = seqs.slice(i, i + B);
      while (chunk.length < B) chunk.push({ ids: [] as number[] } as MlmSequence);
      const t = buckets.find((x) => x >= Math.max(...chunk.map((s) => s.ids.length))) ?? buckets[buckets.length - 1]!;
      const batch = this.evalCollator.collate(chunk, t);
      const s = await this.sessions.get(`electra:${t}:${batch.N}`, runnerFor, () => {
        const g = new Graph('electra_eval');
        const p = paramInputs(g, specs);
        const ids = g.input('input_ids', 'int64', [B, t]), mask = g.input('attention_mask', 'int64', [B, t]);
        const o = this.model.forward(p, { inputIds: ids, attentionMask: mask }, g.input('positions', 'int64', [batch.N]), g.input('labels', 'int64', [batch.N]), null, g.input('seed', 'int64', []));
        g.output(o.loss, 'loss'); g.output(o.generatorLoss, 'generator_loss'); g.output(o.discriminatorLoss, 'discriminator_loss');
        g.output(topK(o.generatorLogits, 1, -1).indices, 'pred'); g.output(o.discriminatorLogits, 'disc_logits'); g.output(o.rtdLabels, 'rtd');
        return g;
      });
      const out = await s.run({ ...feeds, input_ids: tensor('int64', [B, t], batch.ids), attention_mask: tensor('int64', [B, t], batch.mask),
        positions: tensor('int64', [batch.N], batch.positions), labels: tensor('int64', [batch.N], batch.labels), seed: tensor('int64', [], [MLM_EVAL_SEED]) });
      // Losses weighted by the batch's real rows, as HF's evaluation loop (and evaluateMlm).
      const real = Math.min(B, seqs.length - i), scalar = (k: string) => (out[k]!.data as Float32Array)[0]!;
      loss += scalar('loss') * real; discLoss += scalar('discriminator_loss') * real; rows += real;
      gen.addLoss(scalar('generator_loss'), real);
      gen.addTokens(Array.from(out['pred']!.data as BigInt64Array, Number), batch.labels);
      rtd.add(out['disc_logits']!.data as Float32Array, Array.from(out['rtd']!.data as BigInt64Array, Number), batch.mask);
    }
    const g = gen.result();
    return {
      loss: loss / rows, generator_loss: g.loss!, ...(g.accuracy !== undefined ? { generator_accuracy: g.accuracy } : {}),
      discriminator_loss: discLoss / rows, ...rtd.result(),
    };
  }
}
