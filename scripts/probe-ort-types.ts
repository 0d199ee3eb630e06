/**
 * Measures which element types onnxruntime's CPU kernels take for each table op, by building a
 * one-node model per (op, dtype) and running it. The `types` lists in src/engine/autodiff/rules-*.ts
 * come from this script's output. Run: npm run build:test && node out/scripts/probe-ort-types.js
 */
import { DType } from '../src/engine/ir/dtype.js';
import { A, Attr, Graph, Value } from '../src/engine/ir/graph.js';
import { serializeModel } from '../src/engine/ir/proto.js';
import { ints } from '../src/engine/autodiff/ops.js';
import { opDef } from '../src/engine/autodiff/table.js';
import { EngineSession } from '../src/engine/runtime/session.js';
import { tensor } from '../src/engine/runtime/tensor.js';

const DTYPES: DType[] = ['float32', 'float64', 'float16', 'int64', 'int32', 'int8', 'uint8', 'bool'];
type Case = (g: Graph, x: Value, t: DType) => { inputs: (Value | null)[]; attrs?: Record<string, Attr> };
const un: Case = (_g, x) => ({ inputs: [x] });
const bin: Case = (g, x, t) => ({ inputs: [x, g.input('y', t, [2, 3])] });
const red: Case = (_g, x) => ({ inputs: [x, ints(x, [1])], attrs: { keepdims: A.i(0) } });
const CASES: Record<string, Case> = {
  Neg: un, Exp: un, Log: un, Sqrt: un, Tanh: un, Erf: un, Relu: un, Abs: un, Identity: un,
  Softmax: un, LogSoftmax: un, Gelu: (_g, x) => ({ inputs: [x], attrs: { approximate: A.s('none') } }),
  Add: bin, Sub: bin, Mul: bin, Div: bin, Pow: bin, Max: bin, Min: bin, Mod: bin, Equal: bin, Less: bin, Greater: bin,
  MatMul: (g, x, t) => ({ inputs: [x, g.input('y', t, [3, 2])] }),
  ReduceSum: red, ReduceMean: red, ReduceMax: red, ReduceProd: red,
  LayerNormalization: (g, x, t) => ({ inputs: [x, g.input('s', t, [3]), g.input('b', t, [3])], attrs: { epsilon: A.f(1e-5) } }),
  Where: (g, x, t) => ({ inputs: [g.input('c', 'bool', [2, 3]), x, g.input('y', t, [2, 3])] }),
};

async function probe(op: string, t: DType): Promise<boolean> {
  const g = new Graph();
  const x = g.input('x', t, [2, 3]);
  const { inputs, attrs = {} } = CASES[op]!(g, x, t);
  try {
    const outs = g.addNode(op, inputs, attrs, opDef(op)!.infer({ op, inputs, attrs }));
    for (const o of outs) g.output(o);
    const s = await EngineSession.create(serializeModel(g), { device: 'cpu' });
    const feeds = Object.fromEntries(g.inputs.map((v) => [v.name, tensor(v.dtype, [...v.shape] as number[], new Array(6).fill(1).slice(0, (v.shape as number[]).reduce((a, b) => a * b, 1)))]));
    await s.run(feeds);
    return true;
  } catch {
    return false;
  }
}

async function main() {
  for (const op of Object.keys(CASES)) {
    const ok: DType[] = [];
    for (const t of DTYPES) if (await probe(op, t)) ok.push(t);
    console.log(`${op.padEnd(20)} ${ok.join(', ')}`);
  }
}
void main();
