/**
 * A tokenizer.json pipeline that is not plain BERT (RoBERTa/GPT-2 byte-level BPE, XLM-R/ALBERT
 * Unigram, sentencepiece BPE): normalizers → pre-tokenizers → model per word, then the
 * post-processor's offset trimming and the decoders, with the Rust library's semantics. Added
 * tokens, truncation, templates and padding stay in tokenizer.ts / post.ts.
 */
import { Normalizer, PreTokenizer, readNormalizer, readPreTokenizer, BYTES_CHAR } from './components.js';
import { BpeModel, Model, UnigramModel, WordPieceModel } from './models.js';
import { Normalized } from './normalized.js';
import { SequenceTokens } from './post.js';
import { JsonFields, PostProcessorSpec, bertTemplate } from './spec.js';
import { SPACE, charClass } from './unicode.js';

type Decoder = (tokens: string[]) => string[];

export interface Pipeline {
  model: Model;
  normalizer: Normalizer | null;
  preTokenizer: PreTokenizer | null;
  /** ByteLevel/RobertaProcessing trim_offsets: leading/trailing "Ġ" and spaces leave the offsets. */
  trimOffsets: boolean;
  /** The post-processor's add_prefix_space: a first token's one leading space was added, and stays. */
  trimPrefix: boolean;
  decoder: Decoder | null;
  postProcessor: PostProcessorSpec | null;
  /** The tokenizer.json this came from, written back unchanged by saveTokenizer. */
  json: Record<string, unknown>;
}

const MODELS = '"WordPiece", "BPE" or "Unigram"';
const POST = 'TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, Sequence or null';
const DECODERS = 'WordPiece, ByteLevel, Metaspace, BPEDecoder, ByteFallback, Fuse, Strip, Replace, Sequence';

/** Reads everything but added tokens, truncation and padding; `wordPiece` builds the WordPiece model. */
export function readPipeline(f: JsonFields, root: Record<string, unknown>): Pipeline {
  const m = f.object(root['model'], 'model');
  const type = m['type'] ?? ('merges' in m ? 'BPE' : Array.isArray(m['vocab']) ? 'Unigram' : undefined);
  let model: Model;
  if (type === 'BPE') model = new BpeModel(f, m);
  else if (type === 'Unigram') model = new UnigramModel(f, m);
  else if (type === 'WordPiece') model = new WordPieceModel(f, m);
  else return f.fail('model.type', type, `${MODELS} (WordLevel is not supported)`);
  const normalizer = root['normalizer'] == null ? null : readNormalizer(f, root['normalizer'], 'normalizer');
  const preTokenizer = root['pre_tokenizer'] == null ? null : readPreTokenizer(f, root['pre_tokenizer'], 'pre_tokenizer');
  const decoder = root['decoder'] == null ? null : readDecoder(f, root['decoder'], 'decoder');
  const { template, trim, prefix } = root['post_processor'] == null ? { template: null, trim: false, prefix: false } : readPost(f, root['post_processor'], 'post_processor');
  return { model, normalizer, preTokenizer, decoder, postProcessor: template, trimOffsets: trim, trimPrefix: prefix, json: root };
}

function pair(f: JsonFields, v: unknown, field: string): [string, number] {
  const a = f.array(v, field);
  if (a.length !== 2) f.fail(field, a, '[token, id]');
  return [f.string(a[0], `${field}[0]`), f.int(a[1], `${field}[1]`)];
}

function readPost(f: JsonFields, v: unknown, field: string): { template: PostProcessorSpec | null; trim: boolean; prefix: boolean } {
  const o0 = f.object(v, field);
  const prefix = f.bool(o0['add_prefix_space'], `${field}.add_prefix_space`, true);
  const o = f.object(v, field);
  switch (o['type']) {
    case 'BertProcessing': { const [c, ci] = pair(f, o['cls'], `${field}.cls`), [s, si] = pair(f, o['sep'], `${field}.sep`); return { template: bertTemplate(c, ci, s, si), trim: false, prefix }; }
    case 'RobertaProcessing': {
      const [c, ci] = pair(f, o['cls'], `${field}.cls`), [s, si] = pair(f, o['sep'], `${field}.sep`);
      // <s> A </s></s> B </s>, all with type id 0 (processors/roberta.rs).
      const template: PostProcessorSpec = {
        single: [{ special: c, typeId: 0 }, { sequence: 'A', typeId: 0 }, { special: s, typeId: 0 }],
        pair: [{ special: c, typeId: 0 }, { sequence: 'A', typeId: 0 }, { special: s, typeId: 0 }, { special: s, typeId: 0 }, { sequence: 'B', typeId: 0 }, { special: s, typeId: 0 }],
        specialTokens: { [c]: { ids: [ci], tokens: [c] }, [s]: { ids: [si], tokens: [s] } },
      };
      return { template, trim: f.bool(o['trim_offsets'], `${field}.trim_offsets`, true), prefix };
    }
    case 'ByteLevel': return { template: null, trim: f.bool(o['trim_offsets'], `${field}.trim_offsets`, true), prefix };
    case 'TemplateProcessing': return { template: readTemplateJson(f, o, field), trim: false, prefix };
    case 'Sequence': {
      let template: PostProcessorSpec | null = null, trim = false, pre = false;
      f.array(o['processors'], `${field}.processors`).forEach((x, i) => {
        const r = readPost(f, x, `${field}.processors[${i}]`);
        if (r.template) { if (template) f.fail(`${field}.processors[${i}]`, x, 'at most one processor that adds special tokens'); template = r.template; }
        if (r.trim) { trim = true; pre = r.prefix; }
      });
      return { template, trim, prefix: pre };
    }
    default: return f.fail(`${field}.type`, o['type'], `one of ${POST}`);
  }
}

/** TemplateProcessing's JSON (the same reader as the BERT path, kept here to avoid a cycle). */
let templateReader: ((f: JsonFields, p: Record<string, unknown>) => PostProcessorSpec) | null = null;
export function setTemplateReader(r: (f: JsonFields, p: Record<string, unknown>) => PostProcessorSpec): void { templateReader = r; }
function readTemplateJson(f: JsonFields, o: Record<string, unknown>, _field: string): PostProcessorSpec { return templateReader!(f, o); }

const isWs = (ch: string) => (charClass(ch.codePointAt(0)!) & SPACE) !== 0;
const CHAR_BYTES = new Map(BYTES_CHAR.map((c, b) => [c, b]));
const utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

function readDecoder(f: JsonFields, v: unknown, field: string): Decoder {
  const o = f.object(v, field);
  switch (o['type']) {
    case 'Sequence': {
      const list = f.array(o['decoders'], `${field}.decoders`).map((x, i) => readDecoder(f, x, `${field}.decoders[${i}]`));
      return (t) => list.reduce((acc, d) => d(acc), t);
    }
    case 'ByteLevel': return (tokens) => {
      // All tokens' bytes at once, so a character split over tokens comes back whole.
      const bytes: number[] = [];
      const out: string[] = [];
      for (const t of tokens) {
        const bs: number[] = [];
        let ok = true;
        for (const ch of t) { const b = CHAR_BYTES.get(ch); if (b === undefined) { ok = false; break; } bs.push(b); }
        if (ok) bytes.push(...bs); else { if (bytes.length) { out.push(utf8.decode(Uint8Array.from(bytes))); bytes.length = 0; } out.push(t); }
      }
      if (bytes.length) out.push(utf8.decode(Uint8Array.from(bytes)));
      return [out.join('')];
    };
    case 'Metaspace': {
      const rep = f.string(o['replacement'] ?? '▁', `${field}.replacement`);
      let scheme = o['prepend_scheme'];
      if (scheme === undefined) scheme = f.bool(o['add_prefix_space'], `${field}.add_prefix_space`, true) ? 'always' : 'never';
      return (tokens) => tokens.map((t, i) => {
        let s = t.replaceAll(rep, ' ');
        if (i === 0 && scheme !== 'never' && s.startsWith(' ')) s = s.slice(1);
        return s;
      });
    }
    case 'WordPiece': {
      const prefix = f.string(o['prefix'] ?? '##', `${field}.prefix`);
      const clean = f.bool(o['cleanup'], `${field}.cleanup`, true);
      return (tokens) => tokens.map((t, i) => {
        let s = t;
        if (i > 0) s = t.startsWith(prefix) ? t.slice(prefix.length) : ` ${t}`;
        return clean ? cleanup(s) : s;
      });
    }
    case 'BPEDecoder': {
      const suffix = f.string(o['suffix'] ?? '</w>', `${field}.suffix`);
      return (tokens) => tokens.map((t, i) => t.replaceAll(suffix, i === tokens.length - 1 ? '' : ' '));
    }
    case 'ByteFallback': return (tokens) => {
      const out: string[] = [];
      let bytes: number[] = [];
      const flush = () => {
        if (!bytes.length) return;
        const s = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
        try { out.push(s.decode(Uint8Array.from(bytes))); } catch { for (let k = 0; k < bytes.length; k++) out.push('\ufffd'); }
        bytes = [];
      };
      for (const t of tokens) {
        const m = /^<0x([0-9A-F]{2})>$/.exec(t);
        if (m) bytes.push(parseInt(m[1]!, 16)); else { flush(); out.push(t); }
      }
      flush();
      return out;
    };
    case 'Fuse': return (tokens) => [tokens.join('')];
    case 'Strip': {
      const content = f.string(o['content'], `${field}.content`);
      const start = f.int(o['start'], `${field}.start`), stop = f.int(o['stop'], `${field}.stop`);
      return (tokens) => tokens.map((t) => {
        const cs = [...t];
        let a = 0, b = cs.length;
        for (let k = 0; k < start && a < b && cs[a] === content; k++) a++;
        for (let k = 0; k < stop && b > a && cs[b - 1] === content; k++) b--;
        return cs.slice(a, b).join('');
      });
    }
    case 'Replace': {
      const p = f.object(o['pattern'], `${field}.pattern`);
      const content = f.string(o['content'], `${field}.content`);
      if (typeof p['String'] !== 'string') f.fail(`${field}.pattern`, p, '{ "String": … } (regex patterns in decoders are not supported)');
      return (tokens) => tokens.map((t) => t.replaceAll(p['String'] as string, content));
    }
    default: return f.fail(`${field}.type`, o['type'], `one of ${DECODERS}`);
  }
}

/** The WordPiece decoder's cleanup, in the Rust library's order. */
export function cleanup(s: string): string {
  return s.replaceAll(' .', '.').replaceAll(' ?', '?').replaceAll(' !', '!').replaceAll(' ,', ',').replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't").replaceAll(" 'm", "'m").replaceAll(' do not', " don't").replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve").replaceAll(" 're", "'re");
}

/** Normalizes text[from, to) (for added tokens matched in normalized text). */
export function normalizeSegment(p: Pipeline, text: string, from: number, to: number): Normalized {
  const n = Normalized.of(text, from, to);
  if (p.normalizer) p.normalizer(n);
  return n;
}

/** Pre-tokenizes and tokenizes one normalized piece into `out`; `word` numbers the words. */
export function encodePiece(p: Pipeline, n: Normalized, out: SequenceTokens, word: { next: number }): void {
  const pieces = (p.preTokenizer ? p.preTokenizer([n]) : [n]).filter((x) => x.s.length > 0);
  for (const piece of pieces) {
    const w = word.next++;
    for (const t of p.model.tokenize(piece.s)) {
      let start = piece.starts[t.start]!, end = piece.ends[t.end - 1]!;
      if (p.trimOffsets) [start, end] = trim(t.token, start, end, (out.ids.length === 0 || start === 0) && p.trimPrefix);
      out.ids.push(t.id); out.tokens.push(t.token); out.starts.push(start); out.ends.push(end); out.words.push(w);
    }
  }
}

/** processors/byte_level.rs process_offsets, on UTF-16 offsets ("Ġ" stands for one space: one unit). */
function trim(token: string, start: number, end: number, keepOne: boolean): [number, number] {
  const cs = [...token];
  let lead = 0, trail = 0;
  while (lead < cs.length && (cs[lead] === 'Ġ' || isWs(cs[lead]!))) lead++;
  while (trail < cs.length && (cs[cs.length - 1 - trail] === 'Ġ' || isWs(cs[cs.length - 1 - trail]!))) trail++;
  if (keepOne && lead === 1) lead = 0;
  if (lead > 0) start = Math.min(start + lead, end);
  if (trail > 0 && end >= trail) end = Math.max(end - trail, start);
  return [start, end];
}

/**
 * The mark a token carries when a space-delimited word begins with it: "Ġ" (the space byte) behind
 * a ByteLevel pre-tokenizer, the replacement ("▁") of a Metaspace pre-tokenizer or of a
 * sentencepiece-style Replace(" ", "▁") normalizer; null when the tokens carry none.
 */
export function wordStartMark(p: Pipeline): string | null {
  let mark: string | null = null;
  const visit = (v: unknown): void => {
    if (mark !== null || typeof v !== 'object' || v === null) return;
    const o = v as Record<string, unknown>;
    if (o['type'] === 'ByteLevel') mark = 'Ġ';
    else if (o['type'] === 'Metaspace') mark = typeof o['replacement'] === 'string' ? o['replacement'] : '▁';
    else if (o['type'] === 'Replace' && (o['pattern'] as Record<string, unknown> | undefined)?.['String'] === ' ' && typeof o['content'] === 'string' && o['content'] !== '') mark = o['content'];
    else for (const x of [...(o['pretokenizers'] as unknown[] ?? []), ...(o['normalizers'] as unknown[] ?? [])]) visit(x);
  };
  visit(p.json['pre_tokenizer']);
  visit(p.json['normalizer']);
  return mark;
}

/** Words the pre-tokenizer makes of `text` (for preTokenize()). */
export function preTokenizeText(p: Pipeline, text: string): string[] {
  const n = normalizeSegment(p, text, 0, text.length);
  return (p.preTokenizer ? p.preTokenizer([n]) : [n]).filter((x) => x.s.length > 0).map((x) => x.s);
}

export function decodeTokens(p: Pipeline, tokens: string[]): string {
  return p.decoder ? p.decoder(tokens).join('') : tokens.join(' ');
}
