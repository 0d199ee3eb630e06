/**
 * Hugging Face's tokenizer.json ⇄ WordPieceSpec, and the companion files transformers writes next
 * to it (vocab.txt, tokenizer_config.json, special_tokens_map.json). The writer follows the field
 * order and shapes of the Rust library's `Tokenizer.save`, so both Hugging Face libraries load it.
 */
import {
  AddedToken, BertNormalizerOptions, JsonFields, PaddingOptions, PostProcessorSpec, TemplatePiece, TokenizerFileError,
  TruncationOptions, WordPieceSpec, bertTemplate,
} from './spec.js';

const SUPPORTED = {
  model: '"WordPiece" (BERT-style); BPE, Unigram and WordLevel tokenizers are not supported',
  normalizer: '"BertNormalizer" or null',
  pre_tokenizer: '"BertPreTokenizer" or null',
  post_processor: '"TemplateProcessing", "BertProcessing" or null',
  decoder: '"WordPiece" or null',
};

/** Reads a parsed tokenizer.json; `file` only names the source in errors. */
export function specFromTokenizerJson(doc: unknown, file = 'tokenizer.json'): WordPieceSpec {
  const f = new JsonFields(file);
  const root = f.object(doc, '(top level)');
  const typeOf = (v: Record<string, unknown>, field: string, supported: string): string => {
    const t = v['type'];
    if (typeof t !== 'string') return f.fail(`${field}.type`, t, supported);
    return t;
  };

  const model = f.object(root['model'], 'model');
  // Old files leave model.type out; WordPiece is the model with max_input_chars_per_word.
  const modelType = model['type'] ?? ('max_input_chars_per_word' in model ? 'WordPiece' : undefined);
  if (modelType !== 'WordPiece') f.fail('model.type', modelType, SUPPORTED.model);
  const vocabObj = f.object(model['vocab'], 'model.vocab');
  const vocab = new Map<string, number>();
  const owner = new Map<number, string>();
  for (const [token, id] of Object.entries(vocabObj)) {
    const field = `model.vocab[${JSON.stringify(token)}]`;
    const n = f.int(id, field);
    const prev = owner.get(n);
    if (prev !== undefined) f.fail(field, id, `an id no other token has (${JSON.stringify(prev)} has it too)`);
    owner.set(n, token);
    vocab.set(token, n);
  }
  const unkToken = f.string(model['unk_token'] ?? '[UNK]', 'model.unk_token');
  if (!vocab.has(unkToken)) f.fail('model.unk_token', unkToken, 'a token of model.vocab');
  const continuingSubwordPrefix = f.string(model['continuing_subword_prefix'] ?? '##', 'model.continuing_subword_prefix');
  const maxInputCharsPerWord = f.int(model['max_input_chars_per_word'], 'model.max_input_chars_per_word', 1, 100);

  const addedTokens: AddedToken[] = f.array(root['added_tokens'] ?? [], 'added_tokens').map((t, i) => {
    const field = `added_tokens[${i}]`;
    const o = f.object(t, field);
    return {
      id: f.int(o['id'], `${field}.id`),
      content: f.string(o['content'], `${field}.content`),
      singleWord: f.bool(o['single_word'], `${field}.single_word`, false),
      lstrip: f.bool(o['lstrip'], `${field}.lstrip`, false),
      rstrip: f.bool(o['rstrip'], `${field}.rstrip`, false),
      normalized: f.bool(o['normalized'], `${field}.normalized`, true),
      special: f.bool(o['special'], `${field}.special`, false),
    };
  });

  let normalizer: BertNormalizerOptions | null = null;
  if (root['normalizer'] != null) {
    const n = f.object(root['normalizer'], 'normalizer');
    const type = typeOf(n, 'normalizer', SUPPORTED.normalizer);
    if (type !== 'BertNormalizer') f.fail('normalizer.type', type, SUPPORTED.normalizer);
    normalizer = {
      cleanText: f.bool(n['clean_text'], 'normalizer.clean_text', true),
      handleChineseChars: f.bool(n['handle_chinese_chars'], 'normalizer.handle_chinese_chars', true),
      stripAccents: n['strip_accents'] == null ? null : f.bool(n['strip_accents'], 'normalizer.strip_accents'),
      lowercase: f.bool(n['lowercase'], 'normalizer.lowercase', true),
    };
  }

  let bertPreTokenizer = false;
  if (root['pre_tokenizer'] != null) {
    const p = f.object(root['pre_tokenizer'], 'pre_tokenizer');
    const type = typeOf(p, 'pre_tokenizer', SUPPORTED.pre_tokenizer);
    if (type !== 'BertPreTokenizer') f.fail('pre_tokenizer.type', type, SUPPORTED.pre_tokenizer);
    bertPreTokenizer = true;
  }

  let postProcessor: PostProcessorSpec | null = null;
  if (root['post_processor'] != null) {
    const p = f.object(root['post_processor'], 'post_processor');
    const type = typeOf(p, 'post_processor', SUPPORTED.post_processor);
    if (type === 'BertProcessing') {
      const pairOf = (field: string): [string, number] => {
        const a = f.array(p[field], `post_processor.${field}`);
        if (a.length !== 2) f.fail(`post_processor.${field}`, a, '[token, id]');
        return [f.string(a[0], `post_processor.${field}[0]`), f.int(a[1], `post_processor.${field}[1]`)];
      };
      const [cls, clsId] = pairOf('cls');
      const [sep, sepId] = pairOf('sep');
      postProcessor = bertTemplate(cls, clsId, sep, sepId);
    } else if (type === 'TemplateProcessing') {
      postProcessor = readTemplate(f, p);
    } else {
      f.fail('post_processor.type', type, SUPPORTED.post_processor);
    }
  }

  let decoder: WordPieceSpec['decoder'] = null;
  if (root['decoder'] != null) {
    const d = f.object(root['decoder'], 'decoder');
    const type = typeOf(d, 'decoder', SUPPORTED.decoder);
    if (type !== 'WordPiece') f.fail('decoder.type', type, SUPPORTED.decoder);
    decoder = { prefix: f.string(d['prefix'] ?? '##', 'decoder.prefix'), cleanup: f.bool(d['cleanup'], 'decoder.cleanup', true) };
  }

  return {
    vocab, unkToken, continuingSubwordPrefix, maxInputCharsPerWord, normalizer, bertPreTokenizer, addedTokens,
    postProcessor, decoder, truncation: readTruncation(f, root['truncation']), padding: readPadding(f, root['padding']),
  };
}

export function readTemplate(f: JsonFields, p: Record<string, unknown>): PostProcessorSpec {
  const specialTokens: PostProcessorSpec['specialTokens'] = {};
  for (const [name, v] of Object.entries(f.object(p['special_tokens'] ?? {}, 'post_processor.special_tokens'))) {
    const field = `post_processor.special_tokens[${JSON.stringify(name)}]`;
    const o = f.object(v, field);
    const ids = f.array(o['ids'], `${field}.ids`).map((x, i) => f.int(x, `${field}.ids[${i}]`));
    const tokens = f.array(o['tokens'], `${field}.tokens`).map((x, i) => f.string(x, `${field}.tokens[${i}]`));
    if (ids.length !== tokens.length) f.fail(`${field}.tokens`, tokens, `as many tokens as ids (${ids.length})`);
    specialTokens[name] = { ids, tokens };
  }
  const pieces = (key: 'single' | 'pair'): TemplatePiece[] =>
    f.array(p[key], `post_processor.${key}`).map((x, i) => {
      const field = `post_processor.${key}[${i}]`;
      const o = f.object(x, field);
      if (o['SpecialToken'] !== undefined) {
        const s = f.object(o['SpecialToken'], `${field}.SpecialToken`);
        const name = f.string(s['id'], `${field}.SpecialToken.id`);
        if (!(name in specialTokens)) f.fail(`${field}.SpecialToken.id`, name, 'a key of post_processor.special_tokens');
        return { special: name, typeId: f.int(s['type_id'] ?? 0, `${field}.SpecialToken.type_id`) };
      }
      if (o['Sequence'] !== undefined) {
        const s = f.object(o['Sequence'], `${field}.Sequence`);
        const id = s['id'];
        if (id !== 'A' && id !== 'B') f.fail(`${field}.Sequence.id`, id, '"A" or "B"');
        return { sequence: id, typeId: f.int(s['type_id'] ?? 0, `${field}.Sequence.type_id`) };
      }
      return f.fail(field, x, '{ "SpecialToken": … } or { "Sequence": … }');
    });
  return { single: pieces('single'), pair: pieces('pair'), specialTokens };
}

function readTruncation(f: JsonFields, v: unknown): TruncationOptions | null {
  if (v == null) return null;
  const o = f.object(v, 'truncation');
  const strategies = { LongestFirst: 'longest_first', OnlyFirst: 'only_first', OnlySecond: 'only_second' } as const;
  const s = o['strategy'] ?? 'LongestFirst';
  if (typeof s !== 'string' || !(s in strategies)) f.fail('truncation.strategy', s, '"LongestFirst", "OnlyFirst" or "OnlySecond"');
  const d = o['direction'] ?? 'Right';
  if (d !== 'Right' && d !== 'Left') f.fail('truncation.direction', d, '"Right" or "Left"');
  return { maxLength: f.int(o['max_length'], 'truncation.max_length'), strategy: strategies[s as keyof typeof strategies], direction: d === 'Left' ? 'left' : 'right' };
}

function readPadding(f: JsonFields, v: unknown): PaddingOptions | null {
  if (v == null) return null;
  const o = f.object(v, 'padding');
  const out: PaddingOptions = {};
  const s = o['strategy'] ?? 'BatchLongest';
  if (typeof s === 'object' && s !== null && 'Fixed' in s) out.maxLength = f.int((s as Record<string, unknown>)['Fixed'], 'padding.strategy.Fixed', 1);
  else if (s !== 'BatchLongest') f.fail('padding.strategy', s, '"BatchLongest" or { "Fixed": length }');
  const d = o['direction'] ?? 'Right';
  if (d !== 'Right' && d !== 'Left') f.fail('padding.direction', d, '"Right" or "Left"');
  out.direction = d === 'Left' ? 'left' : 'right';
  if (o['pad_to_multiple_of'] != null) out.padToMultipleOf = f.int(o['pad_to_multiple_of'], 'padding.pad_to_multiple_of', 1);
  out.padId = f.int(o['pad_id'], 'padding.pad_id', 0, 0);
  out.padTypeId = f.int(o['pad_type_id'], 'padding.pad_type_id', 0, 0);
  out.padToken = f.string(o['pad_token'] ?? '[PAD]', 'padding.pad_token');
  return out;
}

/** The tokenizer.json object for a spec, in the Rust library's layout (vocab ordered by id). */
export function tokenizerJsonFromSpec(spec: WordPieceSpec): Record<string, unknown> {
  const n = spec.normalizer;
  const pp = spec.postProcessor;
  const piece = (p: TemplatePiece) => ('special' in p ? { SpecialToken: { id: p.special, type_id: p.typeId } } : { Sequence: { id: p.sequence, type_id: p.typeId } });
  const t = spec.truncation;
  const p = spec.padding;
  const strategies = { longest_first: 'LongestFirst', only_first: 'OnlyFirst', only_second: 'OnlySecond' } as const;
  return {
    version: '1.0',
    truncation: t && { direction: t.direction === 'left' ? 'Left' : 'Right', max_length: t.maxLength, strategy: strategies[t.strategy ?? 'longest_first'], stride: 0 },
    padding: p && {
      strategy: p.maxLength !== undefined ? { Fixed: p.maxLength } : 'BatchLongest', direction: p.direction === 'left' ? 'Left' : 'Right',
      pad_to_multiple_of: p.padToMultipleOf ?? null, pad_id: p.padId ?? 0, pad_type_id: p.padTypeId ?? 0, pad_token: p.padToken ?? '[PAD]',
    },
    added_tokens: spec.addedTokens.map((a) => ({ id: a.id, content: a.content, single_word: a.singleWord, lstrip: a.lstrip, rstrip: a.rstrip, normalized: a.normalized, special: a.special })),
    normalizer: n && { type: 'BertNormalizer', clean_text: n.cleanText, handle_chinese_chars: n.handleChineseChars, strip_accents: n.stripAccents, lowercase: n.lowercase },
    pre_tokenizer: spec.bertPreTokenizer ? { type: 'BertPreTokenizer' } : null,
    post_processor: pp && {
      type: 'TemplateProcessing', single: pp.single.map(piece), pair: pp.pair.map(piece),
      special_tokens: Object.fromEntries(Object.entries(pp.specialTokens).map(([k, v]) => [k, { id: k, ids: v.ids, tokens: v.tokens }])),
    },
    decoder: spec.decoder && { type: 'WordPiece', prefix: spec.decoder.prefix, cleanup: spec.decoder.cleanup },
    model: {
      type: 'WordPiece', unk_token: spec.unkToken, continuing_subword_prefix: spec.continuingSubwordPrefix,
      max_input_chars_per_word: spec.maxInputCharsPerWord, vocab: Object.fromEntries([...spec.vocab].sort((a, b) => a[1] - b[1])),
    },
  };
}

/** vocab.txt: line i holds the token with id i. Gaps in the ids cannot be written this way. */
export function vocabTxtFromSpec(spec: WordPieceSpec, file = 'vocab.txt'): string {
  const byId: string[] = [];
  for (const [token, id] of spec.vocab) byId[id] = token;
  for (let i = 0; i < byId.length; i++) {
    if (byId[i] === undefined) throw new TokenizerFileError(file, `no token has id ${i}, so the vocabulary cannot be written one token per line. Renumber the vocabulary densely from 0.`);
    if (/[\n\r]/.test(byId[i]!)) throw new TokenizerFileError(file, `token ${JSON.stringify(byId[i])} (id ${i}) contains a line break, which vocab.txt cannot hold.`);
  }
  return byId.map((t) => `${t}\n`).join('');
}

/** The special-token roles by content, found among the added tokens (used by the HF config files). */
function roles(spec: WordPieceSpec): Record<string, string> {
  const out: Record<string, string> = {};
  const has = (t: string) => spec.addedTokens.some((a) => a.content === t && a.special);
  for (const [role, t] of [['cls_token', '[CLS]'], ['mask_token', '[MASK]'], ['pad_token', '[PAD]'], ['sep_token', '[SEP]'], ['unk_token', spec.unkToken]] as const) {
    if (has(t)) out[role] = t;
  }
  if (spec.padding?.padToken && has(spec.padding.padToken)) out['pad_token'] = spec.padding.padToken;
  return out;
}

/** special_tokens_map.json as transformers writes it for a BERT tokenizer. */
export function specialTokensMapFromSpec(spec: WordPieceSpec): Record<string, string> {
  return roles(spec);
}

/** tokenizer_config.json as transformers (≥ 4.34) writes it for BertTokenizerFast. */
export function tokenizerConfigFromSpec(spec: WordPieceSpec, modelMaxLength = 512): Record<string, unknown> {
  const n = spec.normalizer;
  return {
    added_tokens_decoder: Object.fromEntries(spec.addedTokens.map((a) => [String(a.id), {
      content: a.content, lstrip: a.lstrip, normalized: a.normalized, rstrip: a.rstrip, single_word: a.singleWord, special: a.special,
    }])),
    clean_up_tokenization_spaces: spec.decoder?.cleanup ?? true,
    ...roles(spec),
    do_lower_case: n?.lowercase ?? false,
    model_max_length: modelMaxLength,
    strip_accents: n?.stripAccents ?? null,
    tokenize_chinese_chars: n?.handleChineseChars ?? false,
    tokenizer_class: 'BertTokenizer',
  };
}
