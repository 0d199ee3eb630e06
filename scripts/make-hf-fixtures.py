"""Reference fixtures made by Hugging Face's own libraries, for BERT Lab's tests.

Development only: CI never runs Python; the fixtures it writes are committed.

    python3 -m venv /tmp/hfvenv
    /tmp/hfvenv/bin/pip install torch transformers safetensors tokenizers
    /tmp/hfvenv/bin/python scripts/make-hf-fixtures.py

Writes, deterministically (fixed seeds, fixed corpus, CPU):
  test/fixtures/hf-tiny-bert/       tiny BertForMaskedLM + trained WordPiece tokenizer,
                                    expected.json (inputs, MLM logits, last hidden state, attentions),
                                    fixture-info.json (versions, state-dict keys, raw tensor values),
                                    extra/dtypes.safetensors + extra/dtypes.json (F16/BF16/F64/int
                                    tensors written by Python's safetensors, for the reader's tests)
  test/fixtures/hf-tiny-bert-cls/   BertForSequenceClassification (3 labels), same tokenizer,
                                    expected.json (logits, pooler output), fixture-info.json
"""
import json
import math
import os
import re
import shutil
import struct
import sys

import numpy as np
import safetensors
import safetensors.numpy
import safetensors.torch
import tokenizers
import torch
import transformers
from tokenizers import BertWordPieceTokenizer
from transformers import BertConfig, BertForMaskedLM, BertForSequenceClassification, BertTokenizerFast

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
SOTU = os.path.join(ROOT, 'node_modules', '@stdlib', 'datasets-sotu', 'data')
MLM_DIR = os.path.join(ROOT, 'test', 'fixtures', 'hf-tiny-bert')
CLS_DIR = os.path.join(ROOT, 'test', 'fixtures', 'hf-tiny-bert-cls')
SPECIAL = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']  # ids 0..4, in this order
VOCAB_SIZE = 500

from hf_fixture_common import ROUNDING, f32, perturb, to_list, write_json  # noqa: E402 (next to this script)

torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)


def corpus_lines(max_lines=400):
    """Sentences from the first State of the Union addresses (public domain), in file order."""
    files = sorted(f for f in os.listdir(SOTU) if f.endswith('.txt'))
    lines = []
    for f in files:
        with open(os.path.join(SOTU, f), encoding='utf-8') as fh:
            text = fh.read()
        for s in re.split(r'(?<=[.!?])\s+', text):
            s = s.strip()
            if 20 <= len(s) <= 300:
                lines.append(s)
                if len(lines) == max_lines:
                    return lines
    return lines


def make_tokenizer(folder):
    wp = BertWordPieceTokenizer(lowercase=True, strip_accents=None, clean_text=True, handle_chinese_chars=True)
    wp.train_from_iterator(corpus_lines(), vocab_size=VOCAB_SIZE, min_frequency=2, special_tokens=SPECIAL,
                           limit_alphabet=200, wordpieces_prefix='##', show_progress=False)
    vocab = wp.get_vocab()
    for i, t in enumerate(SPECIAL):
        assert vocab[t] == i, f'{t} has id {vocab[t]}, expected {i}'
    # The trainer picks the same token set every run but orders ties by Rust HashMap iteration,
    # which changes from run to run. WordPiece encoding depends only on the set, so fix the ids:
    # special tokens 0..4, then whole words, then ## pieces, each in code-point order.
    rest = sorted((t for t in vocab if t not in SPECIAL), key=lambda t: (t.startswith('##'), t))
    ordered = SPECIAL + rest
    os.makedirs(folder, exist_ok=True)
    vocab_file = os.path.join(folder, 'vocab.txt')
    with open(vocab_file, 'w', encoding='utf-8') as fh:
        fh.write(''.join(t + '\n' for t in ordered))
    tok = BertTokenizerFast(vocab_file, do_lower_case=True)
    tok.model_max_length = 64
    tok.save_pretrained(folder)
    # transformers 5 folds this file into tokenizer_config.json; 4.x and other loaders still read it.
    special_map = os.path.join(folder, 'special_tokens_map.json')
    if not os.path.exists(special_map):
        with open(special_map, 'w') as fh:
            json.dump({'cls_token': '[CLS]', 'mask_token': '[MASK]', 'pad_token': '[PAD]', 'sep_token': '[SEP]', 'unk_token': '[UNK]'}, fh, indent=2)
            fh.write('\n')
    with open(vocab_file, encoding='utf-8') as fh:
        assert fh.read().split('\n')[:-1] == ordered, 'save_pretrained rewrote vocab.txt differently'
    return tok


def config(vocab_size, **extra):
    return BertConfig(vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                      intermediate_size=64, max_position_embeddings=64, type_vocab_size=2, hidden_act='gelu',
                      initializer_range=0.2, hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
                      layer_norm_eps=1e-12, pad_token_id=0, attn_implementation='eager', **extra)


CASES = [
    {'name': 'one_mask', 'text': ['the congress of the [MASK] states met today.']},
    {'name': 'two_masks', 'text': ['the [MASK] of the union is [MASK] and strong.']},
    {'name': 'pair', 'text': ['the treaty was signed in december.'], 'text_pair': ['the [MASK] will report to congress.']},
    {'name': 'batch_padded', 'text': ['we the people.', 'the government of the united states shall [MASK] the public debt of the nation.']},
]


def encode(tok, case):
    kw = {'text_pair': case['text_pair']} if 'text_pair' in case else {}
    enc = tok(case['text'], padding=True, return_tensors='pt', return_token_type_ids=True, return_attention_mask=True, **kw)
    assert enc['input_ids'].shape[1] <= 64
    return enc


def inputs_json(tok, case, enc):
    out = {'name': case['name'], 'text': case['text']}
    if 'text_pair' in case:
        out['text_pair'] = case['text_pair']
    out['tokens'] = [tok.convert_ids_to_tokens(row) for row in enc['input_ids'].tolist()]
    for k in ('input_ids', 'token_type_ids', 'attention_mask'):
        out[k] = enc[k].tolist()
    return out


def raw_values(path):
    """name → dtype, shape and first 5 values, read back with Python's safetensors."""
    out = {}
    with safetensors.safe_open(path, framework='np') as f:
        for k in sorted(f.keys()):
            a = f.get_tensor(k)
            out[k] = {'dtype': str(a.dtype), 'shape': list(a.shape), 'first5': [f32(x) for x in a.reshape(-1)[:5]]}
    return out


def fixture_info(folder, model, notes):
    path = os.path.join(folder, 'model.safetensors')
    with safetensors.safe_open(path, framework='np') as f:
        keys = list(f.keys())
        metadata = f.metadata()
    with open(path, 'rb') as fh:
        n = struct.unpack('<Q', fh.read(8))[0]
        header = json.loads(fh.read(n))
    info = {
        'made_by': 'scripts/make-hf-fixtures.py',
        'versions': {'python': sys.version.split()[0], 'torch': torch.__version__, 'transformers': transformers.__version__,
                     'safetensors': safetensors.__version__, 'tokenizers': tokenizers.__version__, 'numpy': np.__version__},
        'architecture': type(model).__name__,
        'safetensors_metadata': metadata,
        'state_dict_keys_in_file': sorted(keys),
        'header_key_order': [k for k in header if k != '__metadata__'],
        'model_state_dict_keys': list(model.state_dict().keys()),
        'decoder_weight_in_file': 'cls.predictions.decoder.weight' in keys,
        'raw_tensor_values': raw_values(path),
        'rounding': ROUNDING,
        'notes': notes,
    }
    with open(os.path.join(folder, 'fixture-info.json'), 'w') as fh:
        json.dump(info, fh, indent=1)
        fh.write('\n')
    return info


def check_reload(cls, folder, model, tok):
    """The saved folder loads back in transformers with the same outputs (tied weights restored)."""
    again = cls.from_pretrained(folder, attn_implementation='eager').eval()
    tok2 = BertTokenizerFast.from_pretrained(folder)
    with torch.no_grad():
        for case in CASES:
            enc = encode(tok, case)
            assert torch.equal(enc['input_ids'], encode(tok2, case)['input_ids'])
            assert torch.equal(model(**enc).logits, again(**enc).logits), f'{folder}: reloaded logits differ on {case["name"]}'


def make_mlm(tok):
    torch.manual_seed(1234)
    model = BertForMaskedLM(config(len(tok)))
    perturb(model, 99)
    model.eval()
    model.save_pretrained(MLM_DIR, safe_serialization=True)
    tied = model.cls.predictions.decoder.weight.data_ptr() == model.bert.embeddings.word_embeddings.weight.data_ptr()
    cases = []
    with torch.no_grad():
        for case in CASES:
            enc = encode(tok, case)
            out = model(**enc, output_attentions=True, output_hidden_states=True)
            c = inputs_json(tok, case, enc)
            c['logits'] = to_list(out.logits)  # [B, T, V]
            c['last_hidden_state'] = to_list(out.hidden_states[-1])  # [B, T, H]
            c['attentions'] = [to_list(a) for a in out.attentions]  # L × [B, heads, T, T]
            cases.append(c)
    check_reload(BertForMaskedLM, MLM_DIR, model, tok)
    write_json(os.path.join(MLM_DIR, 'expected.json'), {
        'model': 'BertForMaskedLM', 'eval': True, 'dtype': 'float32', 'attn_implementation': 'eager',
        'rounding': ROUNDING, 'shapes': {'logits': '[B, T, V]', 'last_hidden_state': '[B, T, H]', 'attentions': 'L x [B, heads, T, T]'},
        'cases': cases})
    return fixture_info(MLM_DIR, model, {
        'decoder_tied_to_word_embeddings_in_memory': tied,
        'init': 'torch.manual_seed(1234), initializer_range 0.2; then every bias and LayerNorm parameter += 0.1 * N(0,1) (generator seed 99)',
        'tokenizer': f'BertWordPieceTokenizer trained on {len(corpus_lines())} State of the Union sentences (first addresses, 20-300 chars), vocab_size {VOCAB_SIZE}, min_frequency 2, limit_alphabet 200, uncased',
    })


def make_cls(tok):
    torch.manual_seed(5678)
    model = BertForSequenceClassification(config(len(tok), num_labels=3, id2label={0: 'neg', 1: 'neu', 2: 'pos'},
                                                 label2id={'neg': 0, 'neu': 1, 'pos': 2}))
    perturb(model, 98)
    model.eval()
    model.save_pretrained(CLS_DIR, safe_serialization=True)
    for f in ('tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt'):
        if os.path.exists(os.path.join(MLM_DIR, f)):
            shutil.copyfile(os.path.join(MLM_DIR, f), os.path.join(CLS_DIR, f))
    cases = []
    with torch.no_grad():
        for case in CASES:
            enc = encode(tok, case)
            out = model.bert(**enc)
            logits = model(**enc).logits
            assert torch.equal(logits, model.classifier(out.pooler_output))
            c = inputs_json(tok, case, enc)
            c['logits'] = to_list(logits)  # [B, num_labels]
            c['pooler_output'] = to_list(out.pooler_output)  # [B, H]
            c['last_hidden_state'] = to_list(out.last_hidden_state)  # [B, T, H]
            cases.append(c)
    check_reload(BertForSequenceClassification, CLS_DIR, model, tok)
    write_json(os.path.join(CLS_DIR, 'expected.json'), {
        'model': 'BertForSequenceClassification', 'eval': True, 'dtype': 'float32', 'rounding': ROUNDING,
        'id2label': {'0': 'neg', '1': 'neu', '2': 'pos'},
        'shapes': {'logits': '[B, num_labels]', 'pooler_output': '[B, H]', 'last_hidden_state': '[B, T, H]'},
        'cases': cases})
    return fixture_info(CLS_DIR, model, {
        'init': 'torch.manual_seed(5678), initializer_range 0.2; then every bias and LayerNorm parameter += 0.1 * N(0,1) (generator seed 98)',
        'tokenizer': 'files copied from ../hf-tiny-bert',
    })


def bits(a):
    """Raw little-endian bit patterns as ints, so NaN payloads and -0 survive JSON."""
    return a.view({2: np.uint16, 4: np.uint32, 8: np.uint64}[a.dtype.itemsize]).reshape(-1).tolist()


def make_dtypes():
    """Small tensors of every dtype the TypeScript reader decodes, written by Python's safetensors."""
    special = [0.0, -0.0, 1.0, -2.5, 65504.0, 6.103515625e-05, 5.960464477539063e-08, -5.960464477539063e-08,
               3.0517578125e-05, float('inf'), float('-inf'), float('nan'), 0.1, 1e-40, 3.3895313892515355e+38, -1e-3]
    with np.errstate(over='ignore'):  # 3.39e38 becomes inf in float16, on purpose
        f16 = np.array(special, dtype=np.float16).reshape(4, 4)
    arrays = {
        'f16': f16,
        'f32': np.array(special, dtype=np.float32).reshape(2, 8),
        'f64': np.array(special, dtype=np.float64),
        'i64': np.array([0, 1, -1, 2**40, -(2**40), 2**63 - 1], dtype=np.int64).reshape(2, 3),
        'i32': np.array([0, 1, -1, 2**31 - 1, -(2**31)], dtype=np.int32),
        'u8': np.array([0, 1, 127, 128, 255], dtype=np.uint8),
        'bool': np.array([True, False, True], dtype=np.bool_),
        'empty': np.zeros((0, 3), dtype=np.float32),
        'scalar': np.array(7.5, dtype=np.float32),
    }
    t = torch.tensor(special, dtype=torch.float32).to(torch.bfloat16)
    folder = os.path.join(MLM_DIR, 'extra')
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, 'dtypes.safetensors')
    safetensors.numpy.save_file(arrays, path, metadata={'made_by': 'scripts/make-hf-fixtures.py'})
    # bfloat16 has no numpy dtype: write it with torch into a second file.
    safetensors.torch.save_file({'bf16': t.reshape(4, 4), 'position_ids': torch.arange(8).reshape(1, 8)},
                                os.path.join(folder, 'bf16.safetensors'))
    expected = {}
    for k, a in arrays.items():
        e = {'dtype': str(a.dtype), 'shape': list(a.shape)}
        if a.dtype.kind == 'f':
            e['bits'] = bits(a)
            e['float32_bits'] = bits(a.astype(np.float32))  # what the reader's Float32Array must hold
        else:
            e['values'] = [str(int(x)) for x in a.reshape(-1)]
        expected[k] = e
    expected['bf16'] = {'dtype': 'bfloat16', 'shape': [4, 4], 'bits': t.view(torch.int16).numpy().view(np.uint16).tolist(),
                        'float32_bits': bits(t.to(torch.float32).numpy())}
    expected['position_ids'] = {'dtype': 'int64', 'shape': [1, 8], 'values': [str(i) for i in range(8)]}
    write_json(os.path.join(folder, 'dtypes.json'), {'source_values': [repr(x) for x in special], 'tensors': expected})


def main():
    for d in (MLM_DIR, CLS_DIR):
        shutil.rmtree(d, ignore_errors=True)
    tok = make_tokenizer(MLM_DIR)
    mlm = make_mlm(tok)
    make_cls(tok)
    make_dtypes()
    for d in (MLM_DIR, CLS_DIR):
        total = 0
        for dirpath, _, files in os.walk(d):
            for f in sorted(files):
                size = os.path.getsize(os.path.join(dirpath, f))
                total += size
                print(f'{os.path.relpath(os.path.join(dirpath, f), ROOT)}: {size} bytes')
        print(f'{os.path.relpath(d, ROOT)}: {total} bytes in all')
    print('vocab size', len(tok), '| decoder weight in MLM file:', mlm['decoder_weight_in_file'])


if __name__ == '__main__':
    main()
