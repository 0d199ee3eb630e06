/**
 * Dynamic int8 quantization of an inference graph, as onnxruntime's quantize_dynamic does for
 * MatMul: weights become int8 with one symmetric scale per output channel; activations are
 * quantized per run (DynamicQuantizeLinear, uint8) and multiplied with MatMulInteger, whose int32
 * result is scaled back to float. Gathers from weight tables (embeddings) read int8 rows and
 * their scales. A Linear's weight W [out, in] and the tied MLM decoder (the word embeddings) share
 * one int8 table: the MatMul takes Transpose(W_q), which onnxruntime folds once at load.
 */
import * as F from '../autodiff/index.js';
import { apply } from '../autodiff/index.js';
import { ConstTensor, Graph, Node, Value } from '../ir/graph.js';
import { rewriteGraph } from '../ir/rewrite.js';

interface QTable { q: Value; scale: Value }

const floats = (t: ConstTensor): Float32Array => new Float32Array(t.bytes.slice().buffer);

/** int8 rows with scale max|row|/127 (symmetric, zero point 0). */
export function quantizeRows(w: Float32Array, rows: number, cols: number): { q: Int8Array; scale: Float32Array } {
  const q = new Int8Array(rows * cols), scale = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let m = 0;
    for (let c = 0; c < cols; c++) m = Math.max(m, Math.abs(w[r * cols + c]!));
    const s = m > 0 ? m / 127 : 1;
    scale[r] = s;
    for (let c = 0; c < cols; c++) q[r * cols + c] = Math.max(-127, Math.min(127, Math.round(w[r * cols + c]! / s)));
  }
  return { q, scale };
}

/** Returns a new graph with the float32 weight MatMuls and Gathers of `g` in int8. */
export function quantizeDynamicInt8(g: Graph, opts: { minElements?: number } = {}): Graph {
  const minElements = opts.minElements ?? 0;
  const tables = new Map<string, QTable>();
  return rewriteGraph(g, {
    visit(node: Node, ins: (Value | null)[], ng: Graph, init: (v: Value) => ConstTensor | undefined): Value[] | undefined {
      /** The int8 table of a float32 2-D initializer, made once per weight. */
      const table = (v: Value): QTable | undefined => {
        const t = init(v);
        if (!t || t.dtype !== 'float32' || t.dims.length !== 2 || t.dims[0]! * t.dims[1]! < minElements) return undefined;
        let q = tables.get(v.name);
        if (!q) {
          const [rows, cols] = t.dims as [number, number];
          const { q: qi, scale } = quantizeRows(floats(t), rows, cols);
          q = {
            q: ng.initializer(`${v.name}.int8`, { dtype: 'int8', dims: [rows, cols], bytes: new Uint8Array(qi.buffer) }),
            scale: ng.initializer(`${v.name}.scale`, { dtype: 'float32', dims: [rows], bytes: new Uint8Array(scale.buffer) }),
          };
          tables.set(v.name, q);
        }
        return q;
      };
      if (node.op === 'MatMul') {
        // x·Wᵀ for a Linear (B = Transpose(W)) or the tied decoder.
        const tr = ins[1]?.producer;
        const isT = tr?.op === 'Transpose' && (tr.attrs['perm'] as { ints: number[] } | undefined)?.ints.join() === '1,0';
        const t = isT && tr.inputs[0] ? table(tr.inputs[0]) : undefined;
        if (!t || ins[0]!.dtype !== 'float32') return undefined;
        const [xq, xs, xz] = apply('DynamicQuantizeLinear', [ins[0]!]) as [Value, Value, Value];
        const acc = apply('MatMulInteger', [xq, F.transpose(t.q, [1, 0]), xz, null])[0]!;
        return [F.mul(F.cast(acc, 'float32'), F.mul(t.scale, xs))];
      }
      if (node.op === 'Gather') {
        const axis = (node.attrs['axis'] as { i: number } | undefined)?.i ?? 0;
        const t = axis === 0 ? table(ins[0]!) : undefined;
        if (!t) return undefined;
        const rows = F.cast(F.gather(t.q, ins[1]!, 0), 'float32');             // [..., H]
        return [F.mul(rows, F.unsqueeze(F.gather(t.scale, ins[1]!, 0), [-1]))];
      }
      return undefined;
    },
  });
}
