/**
 * ELECTRA pretraining (Clark et al. 2020, google-research/electra's run_pretraining.py): a small
 * generator trained as a masked LM fills the masked positions with tokens sampled from its
 * softmax, and the discriminator (ElectraForPreTraining) learns which tokens of the result were
 * replaced. One set of embeddings (`electra.embeddings.*`) serves both, as in the paper; the
 * generator keeps its own `embeddings_project` when its hidden size differs from embedding_size.
 * Loss = generator MLM loss + rtd_weight · discriminator loss (the paper's λ = 50).
 * Saved as two Hugging Face folders: the discriminator (ElectraForPreTraining, the model people
 * fine-tune) and generator/ (ElectraForMaskedLM, with a copy of the shared embeddings).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as F from '../../autodiff/index.js';
import { crossEntropy, hashUniform, topK } from '../../autodiff/index.js';
import { Value } from '../../ir/graph.js';
import { ParamSet, ParamValues } from '../../nn/module.js';
import { ConfigError } from '../bert/config.js';
import { BertInputs, ForwardCtx } from '../bert/modeling.js';
import { FolderPart, LoadResult, Weights, loadWeights } from '../bert/folder.js';
import { MaskedLMModel, gatherPositions } from '../model.js';
import { ELECTRA_FAMILY, parseElectraConfig } from './family.js';
import { ElectraConfig, ElectraDiscriminatorHead, ElectraForPreTraining, ElectraGeneratorHead, ElectraModel, discriminatorLoss } from './modeling.js';

/** The paper's weight of the discriminator loss (λ). */
export const RTD_WEIGHT = 50;
/** The generator's size as a fraction of the discriminator's (ELECTRA-Small's generator: 1/4). */
export const GENERATOR_SIZE = 0.25;
/** What a generator may set in generator_config: its depth and widths; the embeddings are the discriminator's. */
export const GENERATOR_FIELDS = ['hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'hidden_act', 'hidden_dropout_prob', 'attention_probs_dropout_prob'] as const;

/**
 * The generator's config: the discriminator's with hidden_size, intermediate_size and
 * num_attention_heads scaled by `generator_size` (rounded, at least 1 head), or the fields of
 * `generator_config` over the discriminator's. Errors name the field.
 */
export function generatorConfig(disc: ElectraConfig, opts: { generator_size?: number; generator_config?: Record<string, unknown> }): ElectraConfig {
  const { generator_size: size, generator_config: given } = opts;
  if (size !== undefined && given !== undefined) throw new ConfigError('generator_size and generator_config are both set; give the generator\'s size as a fraction (generator_size) or its config (generator_config), not both');
  const base: Record<string, unknown> = { ...disc, architectures: ['ElectraForMaskedLM'] };
  delete base['id2label']; delete base['label2id']; delete base['problem_type'];
  if (given !== undefined) {
    for (const k of Object.keys(given)) {
      if (!(GENERATOR_FIELDS as readonly string[]).includes(k)) throw new ConfigError(`generator_config: field "${k}" cannot be set for the generator (${k.includes('embedding') || k === 'vocab_size' || k === 'type_vocab_size' ? 'the embeddings are shared with the discriminator' : 'it is the discriminator\'s'}); it may set ${GENERATOR_FIELDS.join(', ')}`);
    }
    return parseElectraConfig({ ...base, ...given }, 'generator_config');
  }
  const f = size ?? GENERATOR_SIZE;
  if (typeof f !== 'number' || !(f > 0 && f <= 1)) throw new ConfigError(`generator_size is ${JSON.stringify(f)}; it must be a number in (0, 1] (the generator's width as a fraction of the discriminator's; 0.25 as ELECTRA-Small)`);
  const hidden = Math.max(1, Math.round(disc.hidden_size * f)), heads = Math.max(1, Math.round(disc.num_attention_heads * f));
  if (hidden % heads !== 0) throw new ConfigError(`generator_size is ${f}: the generator's hidden_size ${hidden} (${disc.hidden_size} × ${f}) is not divisible by its ${heads} attention heads (${disc.num_attention_heads} × ${f}); choose a generator_size that keeps them divisible, or set generator_config`);
  return parseElectraConfig({ ...base, hidden_size: hidden, num_attention_heads: heads, intermediate_size: Math.max(1, Math.round(disc.intermediate_size * f)) }, 'generator_size');
}

/**
 * Gumbel-max sampling from softmax(logits): argmax(logits − log(−log(u))) per row, with u
 * uniform in [0, 1) [N, V] (google-research/electra's sample_from_softmax, with its 1e-9 guards).
 * The result is int64 token ids [N]: no gradient flows through the sample.
 */
export function gumbelSample(logits: Value, u: Value): Value {
  const gumbel = F.neg(F.log(F.add(F.neg(F.log(F.add(u, 1e-9))), 1e-9)));                   // [N, V]
  return F.squeeze(topK(F.add(logits, gumbel), 1, -1).indices, [-1]);                       // [N]
}

/**
 * The discriminator's input and labels: `ids` [B, T] with the sampled tokens [N] written at the
 * flat `positions` [N] whose `labels` are not −100 (padding slots change nothing), and labels
 * [B, T] that are 1 where the result differs from the original token (a sample equal to the
 * original counts as original, as in the paper).
 */
export function replaceTokens(ids: Value, positions: Value, labels: Value, sampled: Value): { ids: Value; labels: Value } {
  const flat = F.reshape(ids, [-1]);                                                        // [B·T]
  const valid = F.not(F.equal(labels, -100));                                               // [N]
  const there = F.gather(flat, positions, 0);                                               // [N] the input at each slot
  const at = F.unsqueeze(positions, [-1]);                                                  // [N, 1]
  // Each real position appears once; padding slots add 0, so repeated padding positions are harmless.
  const replaced = F.scatterNDAdd(flat, at, F.sub(F.where(valid, sampled, there), there));  // [B·T]
  const original = F.scatterNDAdd(flat, at, F.sub(F.where(valid, labels, there), there));   // [B·T]
  return { ids: F.reshapeLike(replaced, ids), labels: F.reshapeLike(F.cast(F.not(F.equal(replaced, original)), 'int64'), ids) };
}

/** Everything one ELECTRA forward computes, for the loss, evaluation and tests. */
export interface ElectraOutputs {
  generatorLogits: Value;     // [N, V] at the masked positions
  uniforms: Value;            // [N, V] the Gumbel draws' uniforms
  sampled: Value;             // [N] int64
  discriminatorIds: Value;    // [B, T] int64
  rtdLabels: Value;           // [B, T] int64, 1 = replaced
  discriminatorLogits: Value; // [B, T]
  generatorLoss: Value;
  discriminatorLoss: Value;
  loss: Value;
}

/** Offsets that keep the generator's dropout and the sampling draws apart from the discriminator's dropout seeds (seed + site·7919). */
const GENERATOR_SEED = 500009, SAMPLE_SEED = 700001;

/** The generator and the discriminator of ELECTRA pretraining, in one parameter set. */
export class ElectraPreTrainingModel {
  readonly kind = 'electra' as const;
  readonly family = ELECTRA_FAMILY;
  readonly architecture = 'ElectraForPreTraining';
  readonly ps = new ParamSet();
  readonly discriminator: { encoder: ElectraModel; head: ElectraDiscriminatorHead };
  readonly generator: { encoder: ElectraModel; head: ElectraGeneratorHead };
  /** `cfg`: the discriminator's config (saved in the run's folder); `generatorCfg`: generator/'s. */
  constructor(readonly cfg: ElectraConfig, readonly generatorCfg: ElectraConfig, readonly rtdWeight = RTD_WEIGHT) {
    const ps = this.ps;
    const encoder = ps.scope('electra', () => new ElectraModel(ps, cfg));
    this.discriminator = { encoder, head: new ElectraDiscriminatorHead(ps, cfg) };
    this.generator = ps.scope('generator', () => {
      const g = ps.scope('electra', () => new ElectraModel(ps, generatorCfg, encoder.embeddings));
      return { encoder: g, head: new ElectraGeneratorHead(ps, generatorCfg, encoder.embeddings.word.weight) };
    });
  }

  /**
   * `x.inputIds` [B, T] masked by the MLM collator, `positions` [N] flat masked positions,
   * `labels` [N] their original tokens (−100: padding slot). `seed` seeds dropout (null: none)
   * and, with `sampleSeed`, the Gumbel draws.
   */
  forward(p: ParamValues, x: BertInputs, positions: Value, labels: Value, seed: Value | null, sampleSeed: Value): ElectraOutputs {
    const g = this.generator.encoder.forward(p, x, new ForwardCtx(seed && F.add(seed, GENERATOR_SEED)));
    const generatorLogits = this.generator.head.forward(p, gatherPositions(g.hidden, positions)); // [N, V]
    const uniforms = hashUniform(generatorLogits, F.add(sampleSeed, SAMPLE_SEED));
    const sampled = gumbelSample(generatorLogits, uniforms);
    const r = replaceTokens(x.inputIds, positions, labels, sampled);
    const xd: BertInputs = { ...x, inputIds: r.ids };
    const discriminatorLogits = this.discriminator.head.forward(p, this.discriminator.encoder.forward(p, xd, new ForwardCtx(seed)).hidden); // [B, T]
    const generatorLoss = crossEntropy(generatorLogits, labels);
    const dLoss = discriminatorLoss(discriminatorLogits, r.labels, x.attentionMask);
    return {
      generatorLogits, uniforms, sampled, discriminatorIds: r.ids, rtdLabels: r.labels, discriminatorLogits, generatorLoss, discriminatorLoss: dLoss,
      loss: F.add(generatorLoss, F.mul(dLoss, this.rtdWeight)),
    };
  }

  /** The saved folders: the discriminator's keys in the run's folder, the generator's (shared embeddings copied) in generator/. */
  parts(): FolderPart[] {
    const disc = new ElectraForPreTraining(this.cfg).ps.specs, gen = new MaskedLMModel(ELECTRA_FAMILY, this.generatorCfg).ps.specs;
    return [
      { sub: '', config: ELECTRA_FAMILY.configJSON(this.cfg, 'ElectraForPreTraining'), keys: disc.map((s) => ({ key: s.name, param: s.name, shape: s.shape })) },
      { sub: 'generator', config: ELECTRA_FAMILY.configJSON(this.generatorCfg, 'ElectraForMaskedLM'), keys: gen.map((s) => ({ key: s.name, param: generatorParam(s.name), shape: s.shape })) },
    ];
  }

  /**
   * Weights of a folder this model saved (a run's folder or checkpoint): the discriminator from
   * it, the generator from its generator/ subfolder; without one, the generator starts anew
   * (a discriminator from elsewhere, pretrained further), which the notes say.
   */
  load(folder: string, random: () => number): LoadResult {
    const d = loadWeights(folder, new ElectraForPreTraining(this.cfg).ps, random, ELECTRA_FAMILY);
    const weights: Weights = { ...d.weights };
    const notes = [...d.notes];
    const genDir = join(folder, 'generator');
    const gen = existsSync(join(genDir, 'config.json')) ? loadWeights(genDir, new MaskedLMModel(ELECTRA_FAMILY, this.generatorCfg).ps, random, ELECTRA_FAMILY) : null;
    if (!gen) notes.push(`${genDir} holds no generator; the generator is newly initialized`);
    const init = gen ? null : this.ps.initialize(random);
    for (const s of this.ps.specs) {
      if (weights[s.name]) continue;
      weights[s.name] = gen ? gen.weights[s.name.replace(/^generator\./, '')]! : init![s.name]!;
    }
    if (gen) notes.push(...gen.notes.map((n) => `generator: ${n}`));
    return { weights, notes };
  }
}

/** Our parameter of a generator folder's key: its own under generator., the embeddings shared. */
const generatorParam = (key: string): string => (key.startsWith('electra.embeddings.') ? key : `generator.${key}`);
