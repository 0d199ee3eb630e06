/**
 * Sequence-classification examples and batches, as Hugging Face's run_glue.py prepares them:
 * text (and pair) truncated to maxSeqLength with the tokenizer's longest-first rule, special
 * tokens added, then padded — here to the bucket length T of the batch. Labels are encoded by
 * labels.ts (one label contract for training, config.json and predictions): a class id per row
 * (single-label), a 0/1 row of L per example (multi-label), or a value (regression).
 * Examples are encoded once; batches are cut from the encodings.
 */
import type { WordPieceTokenizer } from '../tokenizer/index.js';
import { LabelMapping, LabelValue, encodeLabel } from './labels.js';
import type { ClassificationBatch, Example } from './types.js';

export type ClassificationKind = ClassificationBatch['kind'];

const KIND: Record<LabelMapping['problemType'], ClassificationKind> = {
  single_label_classification: 'single', multi_label_classification: 'multi', regression: 'regression',
};

export interface ClassificationCollatorOptions {
  maxSeqLength: number;
  /** The label set (inferLabels in labels.ts): class names ↔ ids and the problem type. */
  labels: LabelMapping;
}

/** One example after tokenization: what a batch row is made of. */
export interface EncodedExample {
  ids: number[];
  types: number[];
  /** [class id] (single), L zeros and ones (multi), or [value] (regression). */
  label: number[];
}

export class ClassificationCollator {
  readonly kind: ClassificationKind;
  private readonly padId: number;

  constructor(private readonly tokenizer: WordPieceTokenizer, private readonly o: ClassificationCollatorOptions) {
    if (!Number.isInteger(o.maxSeqLength) || o.maxSeqLength < 2) throw new Error(`maxSeqLength is ${o.maxSeqLength}; expected an integer ≥ 2.`);
    this.kind = KIND[o.labels.problemType];
    const pad = tokenizer.spec.padding?.padId ?? tokenizer.tokenToId('[PAD]');
    if (pad === undefined) throw new Error('the tokenizer has no [PAD] token and no padding id in tokenizer.json; add a [PAD] special token.');
    this.padId = pad;
  }

  /** Tokenizes one example (truncated, special tokens added, not padded) and encodes its label. */
  encode(ex: Example): EncodedExample {
    const e = this.tokenizer.encode(ex.text, ex.pair ?? null, {
      truncation: { maxLength: this.o.maxSeqLength, strategy: 'longest_first' }, padding: null, addSpecialTokens: true,
    });
    const l = encodeLabel(ex.label as LabelValue | undefined, this.o.labels, ex.ref);
    return { ids: e.ids, types: e.typeIds, label: Array.isArray(l) ? l : [l] };
  }

  encodeAll(examples: readonly Example[]): EncodedExample[] {
    return examples.map((e) => this.encode(e));
  }

  /** Pads the encoded examples to T (a bucket length ≥ each one's length): one batch of B = items.length rows. */
  collate(items: readonly EncodedExample[], T: number): ClassificationBatch {
    const B = items.length;
    if (B === 0) throw new Error('a classification batch needs at least one example.');
    const ids = new Array<number>(B * T).fill(this.padId), mask = new Array<number>(B * T).fill(0), types = new Array<number>(B * T).fill(0);
    const labels: number[] = [];
    items.forEach((it, b) => {
      if (it.ids.length > T) throw new Error(`example ${b} of the batch has ${it.ids.length} tokens, more than the bucket length ${T}; pick T with bucketFor(length, buckets).`);
      for (let t = 0; t < it.ids.length; t++) {
        ids[b * T + t] = it.ids[t]!;
        mask[b * T + t] = 1;
        types[b * T + t] = it.types[t]!;
      }
      labels.push(...it.label);
    });
    return { B, T, ids, mask, types, labels, kind: this.kind };
  }
}
