/**
 * What a WordPiece tokenizer is made of, read from Hugging Face's tokenizer.json or from a BERT
 * vocab.txt. Only the pieces a BERT tokenizer uses are accepted; anything else is an error that
 * names the file, the field and its value, and says what is supported — never a silent guess.
 */

export interface BertNormalizerOptions {
  /** Remove control/format characters, U+0000 and U+FFFD; turn every whitespace into a space. */
  cleanText: boolean;
  /** Put CJK ideographs in words of their own. */
  handleChineseChars: boolean;
  /** NFD, then drop nonspacing marks; null follows `lowercase` (Hugging Face's rule). */
  stripAccents: boolean | null;
  lowercase: boolean;
}
export const BERT_NORMALIZER_DEFAULTS: BertNormalizerOptions = { cleanText: true, handleChineseChars: true, stripAccents: null, lowercase: true };

/** A token matched literally in the text before WordPiece runs ([CLS], [MASK], user tokens). */
export interface AddedToken {
  id: number;
  content: string;
  /** Match only where no word character touches either side. */
  singleWord: boolean;
  /** Swallow the whitespace on the left / right into the token. */
  lstrip: boolean;
  rstrip: boolean;
  /** Match in the normalized text (e.g. lowercased) instead of the original. */
  normalized: boolean;
  /** Skipped by decode(…, { skipSpecialTokens: true }). */
  special: boolean;
}

export type TemplatePiece = { special: string; typeId: number } | { sequence: 'A' | 'B'; typeId: number };

/** TemplateProcessing: where special tokens go around one sequence or a pair. */
export interface PostProcessorSpec {
  single: TemplatePiece[];
  pair: TemplatePiece[];
  specialTokens: Record<string, { ids: number[]; tokens: string[] }>;
}

export interface TruncationOptions {
  /** Longest encoding, special tokens included. */
  maxLength: number;
  /** Which sequence loses tokens: the longer one first (default), or only the first / second. */
  strategy?: 'longest_first' | 'only_first' | 'only_second';
  /** Drop tokens at the end (default) or the start. */
  direction?: 'right' | 'left';
}

export interface PaddingOptions {
  /** Pad to this length; absent pads every encoding of a batch to the batch's longest. */
  maxLength?: number;
  /** Round the padded length up to a multiple of this. */
  padToMultipleOf?: number;
  direction?: 'right' | 'left';
  padId?: number;
  padTypeId?: number;
  padToken?: string;
}

export interface WordPieceSpec {
  /** Token → id. Ids need not be dense, but must be unique. */
  vocab: Map<string, number>;
  unkToken: string;
  continuingSubwordPrefix: string;
  /** Longer words (in code points, after normalization) become one unknown token. */
  maxInputCharsPerWord: number;
  /** null: the text is not normalized at all. */
  normalizer: BertNormalizerOptions | null;
  /** false: no pre-tokenizer, the whole text between added tokens is one word. */
  bertPreTokenizer: boolean;
  addedTokens: AddedToken[];
  postProcessor: PostProcessorSpec | null;
  /** WordPiece decoder; null joins tokens with spaces, as Hugging Face does without a decoder. */
  decoder: { prefix: string; cleanup: boolean } | null;
  /** Defaults stored in tokenizer.json; encode() options override them. */
  truncation: TruncationOptions | null;
  padding: PaddingOptions | null;
}

/** The options BertTokenizer(Fast) takes with a vocab.txt, with Hugging Face's defaults. */
export interface VocabTxtOptions {
  lowercase?: boolean;
  /** null (default) follows lowercase. */
  stripAccents?: boolean | null;
  tokenizeChineseChars?: boolean;
  cleanText?: boolean;
  unkToken?: string;
  sepToken?: string;
  padToken?: string;
  clsToken?: string;
  maskToken?: string;
  continuingSubwordPrefix?: string;
  maxInputCharsPerWord?: number;
}

/** Fails with a message that names the file, the field, its value and what would be accepted. */
export class TokenizerFileError extends Error {
  constructor(readonly file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'TokenizerFileError';
  }
}

const show = (v: unknown): string => {
  if (v === undefined) return 'missing';
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
};

/** Typed access to a parsed JSON document; every failure names the file and the dotted field. */
export class JsonFields {
  constructor(readonly file: string) {}
  fail(field: string, value: unknown, expected: string): never {
    throw new TokenizerFileError(this.file, `field "${field}" is ${show(value)}; expected ${expected}.`);
  }
  object(v: unknown, field: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(field, v, 'an object');
    return v as Record<string, unknown>;
  }
  array(v: unknown, field: string): unknown[] {
    if (!Array.isArray(v)) this.fail(field, v, 'an array');
    return v;
  }
  string(v: unknown, field: string): string {
    if (typeof v !== 'string') this.fail(field, v, 'a string');
    return v;
  }
  bool(v: unknown, field: string, dflt?: boolean): boolean {
    if (v === undefined && dflt !== undefined) return dflt;
    if (typeof v !== 'boolean') this.fail(field, v, 'true or false');
    return v;
  }
  int(v: unknown, field: string, min = 0, dflt?: number): number {
    if ((v === undefined || v === null) && dflt !== undefined) return dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) this.fail(field, v, `an integer ≥ ${min}`);
    return v;
  }
}

/** JSON.parse with an error that names the file, and the line and column when the engine says where. */
export function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const at = /position (\d+)/.exec(msg);
    let where = '';
    if (at) {
      const pos = Number(at[1]);
      const before = text.slice(0, pos).split('\n');
      where = ` at line ${before.length}, column ${before[before.length - 1]!.length + 1}`;
    }
    throw new TokenizerFileError(file, `not valid JSON${where} (${msg}). Re-save it as UTF-8 JSON, e.g. with tokenizer.save() in Python.`);
  }
}

// Rust's str::trim_end: White_Space only (JavaScript's trimEnd would also drop U+FEFF).
const TRAILING_WHITE_SPACE = /[\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/;

/** A vocab.txt: one token per line, id = line number − 1 (the Rust reader: trailing whitespace dropped, last duplicate wins). */
export function parseVocabTxt(text: string): Map<string, number> {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const vocab = new Map<string, number>();
  lines.forEach((line, i) => vocab.set(line.replace(TRAILING_WHITE_SPACE, ''), i));
  return vocab;
}

/** The tokenizer a BERT vocab.txt stands for, built the way transformers' BertConverter builds it. */
export function specFromVocab(vocab: Map<string, number>, options: VocabTxtOptions = {}, file = 'vocab.txt'): WordPieceSpec {
  const o = {
    lowercase: true, stripAccents: null, tokenizeChineseChars: true, cleanText: true,
    unkToken: '[UNK]', sepToken: '[SEP]', padToken: '[PAD]', clsToken: '[CLS]', maskToken: '[MASK]',
    continuingSubwordPrefix: '##', maxInputCharsPerWord: 100, ...options,
  };
  const need = (token: string, option: string) => {
    const id = vocab.get(token);
    if (id === undefined) {
      throw new TokenizerFileError(file, `the ${option} "${token}" is not in the vocabulary (${vocab.size} tokens). Add a line "${token}" or pass the token the file uses as ${option}.`);
    }
    return id;
  };
  need(o.unkToken, 'unkToken');
  const cls = need(o.clsToken, 'clsToken');
  const sep = need(o.sepToken, 'sepToken');
  const addedTokens: AddedToken[] = [];
  for (const t of [o.padToken, o.unkToken, o.clsToken, o.sepToken, o.maskToken]) {
    const id = vocab.get(t);
    if (id !== undefined && !addedTokens.some((a) => a.content === t)) {
      addedTokens.push({ id, content: t, singleWord: false, lstrip: false, rstrip: false, normalized: false, special: true });
    }
  }
  addedTokens.sort((a, b) => a.id - b.id);
  return {
    vocab, unkToken: o.unkToken, continuingSubwordPrefix: o.continuingSubwordPrefix, maxInputCharsPerWord: o.maxInputCharsPerWord,
    normalizer: { cleanText: o.cleanText, handleChineseChars: o.tokenizeChineseChars, stripAccents: o.stripAccents, lowercase: o.lowercase },
    bertPreTokenizer: true, addedTokens, postProcessor: bertTemplate(o.clsToken, cls, o.sepToken, sep),
    decoder: { prefix: o.continuingSubwordPrefix, cleanup: true }, truncation: null, padding: null,
  };
}

/** [CLS] A [SEP] and [CLS] A [SEP] B [SEP], B's part with token type 1. */
export function bertTemplate(cls: string, clsId: number, sep: string, sepId: number): PostProcessorSpec {
  return {
    single: [{ special: cls, typeId: 0 }, { sequence: 'A', typeId: 0 }, { special: sep, typeId: 0 }],
    pair: [{ special: cls, typeId: 0 }, { sequence: 'A', typeId: 0 }, { special: sep, typeId: 0 }, { sequence: 'B', typeId: 1 }, { special: sep, typeId: 1 }],
    specialTokens: { [cls]: { ids: [clsId], tokens: [cls] }, [sep]: { ids: [sepId], tokens: [sep] } },
  };
}

export interface EncodeOptions {
  /** Add the post-processor's special tokens ([CLS] … [SEP]); default true. */
  addSpecialTokens?: boolean;
  /** Overrides the tokenizer's truncation (tokenizer.json "truncation"); null: none. */
  truncation?: TruncationOptions | null;
  /** Overrides the tokenizer's padding (tokenizer.json "padding"); null: none. */
  padding?: PaddingOptions | null;
}
