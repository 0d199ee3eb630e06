/** BERT WordPiece tokenization: encoder, trainer and Hugging Face file formats. */
export { WordPieceTokenizer, WordPieceTokenizer as Tokenizer } from './tokenizer.js';
export type { SpecialTokens } from './tokenizer.js';
export type { Encoding } from './post.js';
export { trainWordPiece, TRAINER_DEFAULTS } from './trainer.js';
export type { WordPieceTrainerOptions } from './trainer.js';
export { trainByteLevelBpe, BPE_TRAINER_DEFAULTS } from './trainer-bpe.js';
export type { BpeTrainerOptions } from './trainer-bpe.js';
export { loadTokenizer, saveTokenizer } from './files.js';
export {
  specFromTokenizerJson, tokenizerJsonFromSpec, vocabTxtFromSpec, tokenizerConfigFromSpec, specialTokensMapFromSpec,
} from './hf-json.js';
export { BERT_NORMALIZER_DEFAULTS, TokenizerFileError, parseVocabTxt, specFromVocab } from './spec.js';
export type {
  AddedToken, BertNormalizerOptions, EncodeOptions, PaddingOptions, PostProcessorSpec, TemplatePiece, TruncationOptions,
  VocabTxtOptions, WordPieceSpec,
} from './spec.js';
