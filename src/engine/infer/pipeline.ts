/**
 * The inference API of a checkpoint folder: fill-mask, classification and attention maps. The
 * model's weights become initializers of one graph per task, and each graph's session is built
 * once and cached per checkpoint. Sessions run wherever `runnerFor` puts them (a worker thread in
 * the extension; this thread by default).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { serializeModel } from '../ir/proto.js';
import { CheckpointError, loadWeights, readConfig, weightsFile } from '../models/bert/folder.js';
import { BertConfig } from '../models/bert/config.js';
import { HeadModel, attentionMaps, numLabels } from '../models/model.js';
import { modelForConfig } from '../models/registry.js';
import { ModelRunner } from '../runtime/runner.js';
import { Device, EngineSession } from '../runtime/session.js';
import { HostTensor, tensor } from '../runtime/tensor.js';
import { Encoding, WordPieceTokenizer, loadTokenizer } from '../tokenizer/index.js';
import { Weights, inferenceGraph } from './graphs.js';
import { findMasks } from './mask-context.js';
import { quantizeDynamicInt8 } from './quantize.js';

export interface MaskPrediction { tokenId: number; token: string; score: number; sequence: string }
/** One input token: its vocabulary string, UTF-16 [start, end) in the input, and whether the post-processor or padding added it ([CLS], [SEP], [PAD]; offsets [0, 0]). */
export interface InputToken { text: string; start: number; end: number; special: boolean }
export interface FillMaskResult {
  /** The tokens the model saw (after truncation), so a caller can show and mask them. */
  tokens: InputToken[];
  masks: { tokenIndex: number; offset: [number, number]; predictions: MaskPrediction[] }[];
  warnings: string[];
}
export interface ClassifyResult { labels: { label: string; score: number }[]; logits: number[]; warnings: string[] }
export interface AttentionResult {
  tokens: string[];
  offsets: [number, number][];
  sequenceIds: (number | null)[];
  /** Per layer: probabilities [heads, T, T] (query × key), row-major. */
  layers: Float32Array[];
  heads: number;
  warnings: string[];
}

export type RunnerFactory = (model: Uint8Array) => Promise<ModelRunner>;
export interface PipelineOptions {
  /** Where sessions run; default: an EngineSession in this thread on `device`. */
  runnerFor?: RunnerFactory;
  device?: Device;
  /** Use the dynamic int8 graph (faster on CPU, slightly different scores). */
  int8?: boolean;
}

export class BertPipeline {
  private readonly runners = new Map<string, Promise<ModelRunner>>();
  private constructor(readonly folder: string, readonly cfg: BertConfig, readonly model: HeadModel,
    readonly weights: Weights, readonly tokenizer: WordPieceTokenizer, readonly maskToken: string, readonly notes: string[], private readonly opts: PipelineOptions) {}

  /** Loads config, weights and tokenizer of `folder`; the head follows config.json's architectures. */
  static load(folder: string, opts: PipelineOptions = {}): BertPipeline {
    const cfg = readConfig(folder);
    const model = modelForConfig(cfg);
    const { weights, notes } = loadWeights(folder, model.ps, () => { throw new Error(`${folder}: the checkpoint lacks the weights of its own head (${model.architecture})`); }, model.family);
    const tokenizer = loadTokenizer(folder);
    // A model of a <mask> family trained here with a WordPiece vocabulary has [MASK] instead.
    let mask = maskTokenOf(folder, model.family.maskToken);
    if (tokenizer.tokenToId(mask) === undefined && tokenizer.tokenToId('[MASK]') !== undefined) mask = '[MASK]';
    return new BertPipeline(folder, cfg, model, weights, tokenizer, mask, notes, opts);
  }

  private runner(kind: string, build: () => Uint8Array): Promise<ModelRunner> {
    const key = `${kind}${this.opts.int8 ? ':int8' : ''}`;
    let r = this.runners.get(key);
    if (!r) {
      const bytes = build();
      r = this.opts.runnerFor ? this.opts.runnerFor(bytes) : EngineSession.create(bytes, { device: this.opts.device ?? 'cpu', purpose: 'infer' });
      this.runners.set(key, r);
      r.catch(() => this.runners.delete(key));
    }
    return r;
  }

  private graphBytes(output: 'logits' | 'fill-mask', opts: { topK?: number; attentions?: boolean } = {}): Uint8Array {
    const g = inferenceGraph(this.model, this.weights, { output, ...opts });
    return serializeModel(this.opts.int8 ? quantizeDynamicInt8(g) : g);
  }

  /** Encodes one text (and pair), truncated to max_position_embeddings with a warning. */
  encode(text: string, pair?: string | null): { enc: Encoding; warnings: string[] } {
    const max = this.model.family.maxLength(this.cfg);
    const full = this.tokenizer.encode(text, pair ?? null, { truncation: null, padding: null });
    const warnings: string[] = [];
    if (full.ids.length <= max) return { enc: full, warnings };
    const enc = this.tokenizer.encode(text, pair ?? null, { truncation: { maxLength: max }, padding: null });
    const allows = max === this.cfg.max_position_embeddings ? `${max}` : `${this.cfg.max_position_embeddings} (${max} tokens)`;
    warnings.push(`the input is ${full.ids.length} tokens; config.json max_position_embeddings is ${allows}, so it was truncated to ${max} tokens`);
    return { enc, warnings };
  }

  private feeds(enc: Encoding): Record<string, HostTensor> {
    const T = enc.ids.length;
    return {
      input_ids: tensor('int64', [1, T], enc.ids),
      attention_mask: tensor('int64', [1, T], enc.attentionMask),
      ...(this.model.family.hasTokenTypes ? { token_type_ids: tensor('int64', [1, T], enc.typeIds) } : {}),
    };
  }

  /**
   * The top-k tokens for every mask token in `text` (the model's own: <mask> for RoBERTa), with
   * probabilities. `[MASK]` typed against a model whose mask token differs is accepted as an alias.
   */
  async fillMask(typed: string, opts: { topK?: number } = {}): Promise<FillMaskResult> {
    if (this.model.kind !== 'mlm') throw new Error(`${this.folder}: fill-mask needs a masked-LM checkpoint; this one is ${this.model.architecture}`);
    const topK = opts.topK ?? 5;
    const maskToken = this.maskToken;
    const alias = aliasMasks(typed, maskToken);
    const text = alias.text;
    const { enc, warnings } = this.encode(text);
    const maskId = this.tokenizer.tokenToId(maskToken);
    const positions = enc.ids.flatMap((id, i) => (id === maskId ? [i] : []));
    const tokens = enc.tokens.map((t, i): InputToken => ({ text: t, start: alias.back(enc.offsets[i]![0]), end: alias.back(enc.offsets[i]![1]), special: enc.specialTokensMask[i] === 1 }));
    const inText = (text.split(maskToken).length - 1);
    if (inText > positions.length) warnings.push(`${inText - positions.length} of ${inText} ${maskToken} tokens fell beyond max_position_embeddings (${this.cfg.max_position_embeddings}) and were not predicted`);
    if (positions.length === 0) return { tokens, masks: [], warnings: inText ? warnings : [...warnings, `no ${maskToken} in the text`] };
    const runner = await this.runner(`fill-mask@${topK}`, () => this.graphBytes('fill-mask', { topK }));
    const out = await runner.run({ ...this.feeds(enc), mask_positions: tensor('int64', [positions.length], positions) });
    const k = out['scores']!.dims[1]!;
    const scores = out['scores']!.data as Float32Array, ids = out['token_ids']!.data as BigInt64Array;
    return {
      tokens,
      masks: positions.map((pos, m) => {
        const offset: [number, number] = [alias.back(enc.offsets[pos]![0]), alias.back(enc.offsets[pos]![1])];
        return {
          tokenIndex: pos, offset,
          predictions: Array.from({ length: k }, (_, j) => {
            const tokenId = Number(ids[m * k + j]!);
            const token = this.tokenizer.decode([tokenId]);
            return { tokenId, token, score: scores[m * k + j]!, sequence: fillIn(typed, offset, token, this.tokenizer.spec.continuingSubwordPrefix) };
          }),
        };
      }),
      warnings,
    };
  }

  /** Class probabilities (softmax; sigmoid for multi-label; the raw value for regression). */
  async classify(text: string, pair?: string): Promise<ClassifyResult> {
    if (this.model.kind !== 'cls') throw new Error(`${this.folder}: classify needs a sequence-classification checkpoint; this one is ${this.model.architecture}`);
    const { enc, warnings } = this.encode(text, pair);
    const runner = await this.runner('logits', () => this.graphBytes('logits'));
    const logits = Array.from((await runner.run(this.feeds(enc), ['logits']))['logits']!.data as Float32Array);
    const names = Array.from({ length: numLabels(this.cfg) }, (_, i) => this.cfg.id2label?.[String(i)] ?? `LABEL_${i}`);
    const kind = this.model.head.problemType;
    let scores: number[];
    if (kind === 'multi_label_classification') scores = logits.map((z) => 1 / (1 + Math.exp(-z)));
    else if (kind === 'regression') scores = logits;
    else { const m = Math.max(...logits); const e = logits.map((z) => Math.exp(z - m)); const s = e.reduce((a, b) => a + b, 0); scores = e.map((x) => x / s); }
    return { labels: names.map((label, i) => ({ label, score: scores[i]! })).sort((a, b) => b.score - a.score), logits, warnings };
  }

  /** Attention probabilities of every layer and head, with the tokens and their offsets. */
  async attention(text: string, pair?: string): Promise<AttentionResult> {
    // Masks typed the other way ([MASK] / <mask>) are read as the model's own; offsets stay the typed text's.
    const a = aliasMasks(text, this.maskToken), b = pair === undefined ? undefined : aliasMasks(pair, this.maskToken);
    const { enc: raw, warnings } = this.encode(a.text, b?.text);
    const enc = { ...raw, offsets: raw.offsets.map(([s, e], i): [number, number] => (raw.sequenceIds[i] === 1 && b ? [b.back(s), b.back(e)] : [a.back(s), a.back(e)])) };
    const L = attentionMaps(this.model.family, this.cfg);
    const runner = await this.runner('attentions', () => this.graphBytes('logits', { attentions: true }));
    const names = Array.from({ length: L }, (_, l) => `attentions.${l}`);
    const out = await runner.run(this.feeds(enc), names);
    return {
      tokens: enc.tokens, offsets: enc.offsets, sequenceIds: enc.sequenceIds,
      layers: names.map((n) => out[n]!.data as Float32Array), heads: this.cfg.num_attention_heads, warnings,
    };
  }

  /** Releases cached sessions that support it. */
  async dispose(): Promise<void> {
    for (const r of this.runners.values()) {
      await (await r.catch(() => null))?.release();
    }
    this.runners.clear();
  }
}

/** `text` with the mask at `offset` replaced by `token`; a word piece ("##s") joins the word before it. */
function fillIn(text: string, offset: [number, number], token: string, prefix: string): string {
  if (prefix && token.startsWith(prefix) && token.length > prefix.length) return text.slice(0, offset[0]).replace(/\s+$/, '') + token.slice(prefix.length) + text.slice(offset[1]);
  return text.slice(0, offset[0]) + token + text.slice(offset[1]);
}

/**
 * `text` with every mask spelled otherwise ([MASK] against a <mask> model, or <mask> against a
 * [MASK] one) replaced by the model's mask token, and `back`, which maps an offset in the new text
 * to the typed text (an offset inside a replaced mask maps into the typed one, clamped to its end).
 */
export function aliasMasks(text: string, maskToken: string): { text: string; back: (offset: number) => number } {
  const typed = findMasks(text).filter((m) => text.slice(m.start, m.end) !== maskToken);
  if (!typed.length) return { text, back: (o) => o };
  // Each replaced mask: where it starts in the new text, and its typed span.
  const spans: { at: number; start: number; end: number }[] = [];
  let out = '', from = 0;
  for (const m of typed) {
    out += text.slice(from, m.start);
    spans.push({ at: out.length, start: m.start, end: m.end });
    out += maskToken;
    from = m.end;
  }
  out += text.slice(from);
  return {
    text: out,
    back: (o) => {
      let shift = 0; // new − typed offset after the masks passed so far
      for (const s of spans) {
        if (o >= s.at + maskToken.length) shift = s.at + maskToken.length - s.end;
        else if (o > s.at) return Math.min(s.start + (o - s.at), s.end);
        else break;
      }
      return o - shift;
    },
  };
}

/** The mask token a folder's special_tokens_map.json or tokenizer_config.json names, else the family's. */
function maskTokenOf(folder: string, fallback: string): string {
  for (const f of ['special_tokens_map.json', 'tokenizer_config.json']) {
    try {
      const m = (JSON.parse(readFileSync(join(folder, f), 'utf8')) as Record<string, unknown>)['mask_token'];
      if (typeof m === 'string') return m;
      if (m && typeof m === 'object' && typeof (m as { content?: unknown }).content === 'string') return (m as { content: string }).content;
    } catch { /* absent or unreadable: try the next */ }
  }
  return fallback;
}

/** Pipelines cached per checkpoint folder (refreshed when its model.safetensors, or its shards' index, changes). */
const cache = new Map<string, { mtime: number; pipe: BertPipeline }>();
export function pipelineFor(folder: string, opts: PipelineOptions = {}): BertPipeline {
  const key = `${resolve(folder)}|${opts.int8 ? 'int8' : 'fp32'}|${opts.device ?? 'cpu'}`;
  readConfig(folder); // a missing or invalid folder fails here, naming the file
  const weights = weightsFile(folder); // model.safetensors or the shards' index; a pickle-only folder is refused by name
  const mtime = statSync(weights).mtimeMs;
  const hit = cache.get(key);
  if (hit && hit.mtime === mtime) return hit.pipe;
  if (hit) void hit.pipe.dispose();
  const pipe = BertPipeline.load(folder, opts);
  cache.set(key, { mtime, pipe });
  return pipe;
}
