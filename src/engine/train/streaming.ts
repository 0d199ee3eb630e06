/**
 * Masked-LM on a text stream: for training text larger than memory. The file is read
 * sequentially (never whole), tokenized on the fly (lines, or chunks of max_seq_length), and
 * shuffled through a buffer of a few thousand sequences, as datasets' IterableDataset.shuffle
 * does. The shuffle generator of each epoch derives from (seed, epoch), so a resumed run replays
 * the epoch's stream up to the sequences already used (as HF's Trainer skips batches on resume)
 * and continues with exactly the same data.
 */
import { MlmSequence, chunkDocuments, tokenizeForMlm } from '../data/collate-mlm.js';
import { bucketFor } from '../data/batching.js';
import { readExamples } from '../data/readers.js';
import { isValidation } from '../data/split.js';
import { Rng } from '../data/rng.js';
import { DatasetSpec } from '../data/types.js';
import { WordPieceTokenizer } from '../tokenizer/index.js';
import { MlmTaskBase, TaskState } from './tasks.js';

export interface StreamOptions { maxSeqLength: number; lineByLine: boolean; mlmProbability: number; wholeWord: boolean; validationRatio: number; evalExamples: number; bufferSize: number }

export class StreamingMlmTask extends MlmTaskBase {
  private epoch = 0;
  private consumed = 0;
  private window: MlmSequence[] = [];
  private iter: AsyncGenerator<MlmSequence> | null = null;
  private skip = 0;

  constructor(common: { name: string; weight: number; batchSize: number; M: number; buckets: number[]; seed: number; stepsPerRun: number },
    private readonly tokenizer: WordPieceTokenizer, private readonly spec: string | DatasetSpec, private readonly o: StreamOptions) {
    super(common, tokenizer, o);
    this.trainSize = NaN;
    this.seed = common.seed;
    this.K = common.stepsPerRun;
  }
  private readonly seed: number;
  private readonly K: number;

  /** Reads the evaluation examples: the first `evalExamples` of the validation split. */
  async init(): Promise<void> {
    const texts: string[] = [];
    let i = 0;
    for await (const e of readExamples(this.spec)) {
      if (isValidation(i++, this.seed, this.o.validationRatio)) texts.push(e.text);
      if (texts.length >= this.o.evalExamples) break;
    }
    this.evalSeqs = tokenizeForMlm(this.tokenizer, texts, { maxSeqLength: this.o.maxSeqLength, lineByLine: true });
  }

  /** Training sequences of one epoch in stream order (validation examples left out). */
  private async *sequences(): AsyncGenerator<MlmSequence> {
    let i = 0;
    const T = this.o.maxSeqLength;
    if (this.o.lineByLine) {
      for await (const e of readExamples(this.spec)) {
        if (isValidation(i++, this.seed, this.o.validationRatio)) continue;
        const s = tokenizeForMlm(this.tokenizer, [e.text], { maxSeqLength: T, lineByLine: true });
        if (s[0]) yield s[0];
      }
      return;
    }
    // Chunks: concatenate documents and cut every T − 2 tokens (run_mlm.py's group_texts).
    const cls = this.tokenizer.tokenToId('[CLS]')!, sep = this.tokenizer.tokenToId('[SEP]')!;
    let ids: number[] = [], words: (number | null)[] = [];
    for await (const e of readExamples(this.spec)) {
      if (isValidation(i++, this.seed, this.o.validationRatio)) continue;
      const enc = this.tokenizer.encode(e.text, null, { addSpecialTokens: false, truncation: null, padding: null });
      const offset = words.reduce<number>((m, w) => (w === null ? m : Math.max(m, w + 1)), 0);
      ids.push(...enc.ids);
      words.push(...enc.wordIds.map((w) => (w === null ? null : w + offset)));
      while (ids.length >= T - 2) {
        yield* chunkDocuments([{ ids: ids.slice(0, T - 2), wordIds: words.slice(0, T - 2) }], { maxSeqLength: T, clsId: cls, sepId: sep });
        ids = ids.slice(T - 2);
        words = words.slice(T - 2);
      }
    }
    if (ids.length) yield* chunkDocuments([{ ids, wordIds: words }], { maxSeqLength: T, clsId: cls, sepId: sep });
  }

  /** The epoch's sequences through a shuffle buffer, seeded by (seed, epoch). */
  private async *shuffled(): AsyncGenerator<MlmSequence> {
    const rng = Rng.derive(this.seed, `stream:${this.name}:${this.epoch}`);
    const buf: MlmSequence[] = [];
    for await (const s of this.sequences()) {
      if (buf.length < this.o.bufferSize) { buf.push(s); continue; }
      const j = rng.int(buf.length);
      const out = buf[j]!;
      buf[j] = s;
      yield out;
    }
    rng.shuffle(buf);
    yield* buf;
  }

  private async nextSequence(): Promise<MlmSequence> {
    for (;;) {
      if (!this.iter) {
        this.iter = this.shuffled();
        // After a resume: replay the used part of the epoch without training on it.
        for (; this.skip > 0; this.skip--) if ((await this.iter.next()).done) throw new Error(`task "${this.name}": the stream is shorter than when the checkpoint was saved`);
      }
      const r = await this.iter.next();
      if (!r.done) { this.consumed++; return r.value; }
      if (this.consumed === 0) throw new Error(`task "${this.name}": the training stream has no text`);
      this.iter = null;
      this.epoch++;
      this.consumed = 0;
    }
  }

  override async prepare(): Promise<void> {
    if (this.pending && this.pending.batches.length >= this.M) return;
    const n = this.K * this.M * this.batchSize;
    const seqs: MlmSequence[] = [];
    for (let i = 0; i < n; i++) seqs.push(await this.nextSequence());
    this.window = seqs;
    const T = bucketFor(Math.max(...seqs.map((s) => s.ids.length)), this.buckets);
    this.pending = { T, batches: Array.from({ length: this.K * this.M }, (_, b) => Array.from({ length: this.batchSize }, (_, j) => b * this.batchSize + j)) };
  }
  override front() {
    if (!this.pending || this.pending.batches.length < this.M) throw new Error('internal: prepare() must run before front()');
    return this.pending;
  }
  override get epochProgress(): number { return this.epoch; }

  protected sequence(i: number): MlmSequence { return this.window[i]!; }
  state(): TaskState {
    const used = this.pending ? new Set(this.pending.batches.flat()) : new Set<number>();
    const keep = this.window.filter((_, i) => used.has(i));
    const remap = new Map([...used].sort((a, b) => a - b).map((old, i) => [old, i]));
    return {
      pending: this.pending ? { T: this.pending.T, batches: this.pending.batches.map((b) => b.map((i) => remap.get(i)!)) } : null,
      collator: this.collator.state,
      stream: { epoch: this.epoch, consumed: this.consumed, sequences: keep },
    };
  }
  restore(s: TaskState): void {
    if (!s.stream) throw new Error(`task "${this.name}": the checkpoint has no stream position (it was not saved by a streaming run)`);
    this.epoch = s.stream.epoch;
    this.skip = s.stream.consumed;
    this.consumed = s.stream.consumed;
    this.window = s.stream.sequences;
    this.pending = s.pending;
    this.iter = null;
    if (s.collator) this.collator.restore(s.collator);
  }
}
