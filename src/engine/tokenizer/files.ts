/**
 * Reading and writing tokenizer files on disk: a tokenizer.json, a vocab.txt, or a model folder
 * holding them (what Hugging Face's `save_pretrained` writes).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { localModelPath, looksLikeHubId } from '../hub/resolve.js';
import { specialTokensMapFromSpec, tokenizerConfigFromSpec, tokenizerJsonFromSpec, vocabTxtFromSpec } from './hf-json.js';
import { JsonFields, TokenizerFileError, VocabTxtOptions, parseJson, parseVocabTxt } from './spec.js';
import { SpecialTokens, WordPieceTokenizer } from './tokenizer.js';

function read(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new TokenizerFileError(file, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`);
  }
}

/** BertTokenizer's options from a tokenizer_config.json next to a vocab.txt (absent fields keep defaults). */
function vocabOptionsFromConfig(file: string): VocabTxtOptions {
  const f = new JsonFields(file);
  const c = f.object(parseJson(read(file), file), '(top level)');
  const o: VocabTxtOptions = {};
  if (c['do_lower_case'] !== undefined) o.lowercase = f.bool(c['do_lower_case'], 'do_lower_case');
  if (c['strip_accents'] !== undefined) o.stripAccents = c['strip_accents'] === null ? null : f.bool(c['strip_accents'], 'strip_accents');
  if (c['tokenize_chinese_chars'] !== undefined) o.tokenizeChineseChars = f.bool(c['tokenize_chinese_chars'], 'tokenize_chinese_chars');
  for (const [key, opt] of [['unk_token', 'unkToken'], ['sep_token', 'sepToken'], ['pad_token', 'padToken'], ['cls_token', 'clsToken'], ['mask_token', 'maskToken']] as const) {
    if (typeof c[key] === 'string') o[opt] = c[key];
  }
  return o;
}

/** mask_token, pad_token, cls_token (or bos_token), sep_token (or eos_token), unk_token of a config file. */
function rolesFromConfig(file: string): SpecialTokens {
  const f = new JsonFields(file);
  const c = f.object(parseJson(read(file), file), '(top level)');
  const token = (k: string): string | undefined => {
    const v = c[k];
    if (typeof v === 'string') return v;
    if (typeof v === 'object' && v !== null && typeof (v as Record<string, unknown>)['content'] === 'string') return (v as Record<string, string>)['content'];
    return undefined;
  };
  return { mask: token('mask_token'), pad: token('pad_token'), cls: token('cls_token') ?? token('bos_token'), sep: token('sep_token') ?? token('eos_token'), unk: token('unk_token') };
}

/**
 * Loads a tokenizer from a tokenizer.json file, a vocab.txt file (with `options`), or a folder:
 * its tokenizer.json if present, else its vocab.txt with the options of its tokenizer_config.json.
 * A Hugging Face Hub id reads the model's snapshot in the Hugging Face cache (never downloads).
 */
export function loadTokenizer(p: string, options: VocabTxtOptions = {}): WordPieceTokenizer {
  // A name that is not on disk but looks like a Hub id is its snapshot in the Hugging Face cache
  // (or an error saying it is not there); a missing file keeps its read error.
  if (!fs.existsSync(p) && looksLikeHubId(p)) p = localModelPath(p, 'the tokenizer', { allowFile: true, purpose: 'tokenizer' });
  let file = p;
  if (fs.existsSync(p) && fs.statSync(p).isDirectory()) {
    const json = path.join(p, 'tokenizer.json');
    const vocab = path.join(p, 'vocab.txt');
    const config = path.join(p, 'tokenizer_config.json');
    if (fs.existsSync(json)) file = json;
    else if (fs.existsSync(vocab)) {
      const fromConfig = fs.existsSync(config) ? vocabOptionsFromConfig(config) : {};
      return WordPieceTokenizer.fromVocab(parseVocabTxt(read(vocab)), { ...fromConfig, ...options }, vocab);
    } else throw new TokenizerFileError(p, 'has neither tokenizer.json nor vocab.txt. Point to a folder saved by save_pretrained, or to the file itself.');
  }
  const text = read(file);
  if (file.endsWith('.txt')) return WordPieceTokenizer.fromVocab(parseVocabTxt(text), options, file);
  const tok = WordPieceTokenizer.fromTokenizerJson(text, file);
  // Roles (mask_token, pad_token, …) as transformers records them next to tokenizer.json.
  for (const name of ['special_tokens_map.json', 'tokenizer_config.json']) {
    const companion = path.join(path.dirname(file), name);
    if (fs.existsSync(companion)) tok.setSpecialTokens(rolesFromConfig(companion));
  }
  return tok;
}

/** Writes tokenizer.json, vocab.txt, tokenizer_config.json and special_tokens_map.json into `dir`. */
export function saveTokenizer(tokenizer: WordPieceTokenizer, dir: string, options: { modelMaxLength?: number } = {}): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const spec = tokenizer.spec;
  if (tokenizer.pipeline) {
    // Not WordPiece: tokenizer.json as it was read, and the roles transformers reads back.
    const st = tokenizer.specialTokens;
    const roles = Object.fromEntries(Object.entries({ mask_token: st.mask, pad_token: st.pad, cls_token: st.cls, sep_token: st.sep, unk_token: st.unk }).filter(([, v]) => v !== undefined));
    const out: [string, string][] = [
      ['tokenizer.json', `${tokenizer.toTokenizerJson()}\n`],
      ['tokenizer_config.json', `${JSON.stringify({ ...roles, model_max_length: options.modelMaxLength ?? 512, tokenizer_class: 'PreTrainedTokenizerFast' }, null, 2)}\n`],
      ['special_tokens_map.json', `${JSON.stringify(roles, null, 2)}\n`],
    ];
    return out.map(([name, text]) => { const file = path.join(dir, name); fs.writeFileSync(file, text); return file; });
  }
  const files: [string, string][] = [
    ['tokenizer.json', `${JSON.stringify(tokenizerJsonFromSpec(spec), null, 2)}\n`],
    ['vocab.txt', vocabTxtFromSpec(spec, path.join(dir, 'vocab.txt'))],
    ['tokenizer_config.json', `${JSON.stringify(tokenizerConfigFromSpec(spec, options.modelMaxLength), null, 2)}\n`],
    ['special_tokens_map.json', `${JSON.stringify(specialTokensMapFromSpec(spec), null, 2)}\n`],
  ];
  return files.map(([name, text]) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  });
}
