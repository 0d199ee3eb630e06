/**
 * Serialization to ONNX ModelProto bytes with protobufjs. The schema below is the subset of
 * onnx.proto (proto2) the engine writes, with onnx.proto's field numbers. protobufjs writes fields
 * in field-number order, so the same graph always gives the same bytes.
 */
import protobuf from 'protobufjs';
import { ONNX_DTYPE } from './dtype.js';
import { Attr, ConstTensor, Graph, Value } from './graph.js';

const r = (type: string, id: number, packed?: boolean) => ({ rule: 'repeated', type, id, ...(packed === undefined ? {} : { options: { packed } }) });
const o = (type: string, id: number) => ({ type, id });

const SCHEMA = {
  nested: {
    onnx: {
      nested: {
        ModelProto: { fields: { irVersion: o('int64', 1), producerName: o('string', 2), producerVersion: o('string', 3), domain: o('string', 4), modelVersion: o('int64', 5), docString: o('string', 6), graph: o('GraphProto', 7), opsetImport: r('OperatorSetIdProto', 8), metadataProps: r('StringStringEntryProto', 14) } },
        OperatorSetIdProto: { fields: { domain: o('string', 1), version: o('int64', 2) } },
        StringStringEntryProto: { fields: { key: o('string', 1), value: o('string', 2) } },
        GraphProto: { fields: { node: r('NodeProto', 1), name: o('string', 2), initializer: r('TensorProto', 5), docString: o('string', 10), input: r('ValueInfoProto', 11), output: r('ValueInfoProto', 12), valueInfo: r('ValueInfoProto', 13) } },
        NodeProto: { fields: { input: r('string', 1), output: r('string', 2), name: o('string', 3), opType: o('string', 4), attribute: r('AttributeProto', 5), docString: o('string', 6), domain: o('string', 7) } },
        AttributeProto: { fields: { name: o('string', 1), f: o('float', 2), i: o('int64', 3), s: o('bytes', 4), t: o('TensorProto', 5), g: o('GraphProto', 6), floats: r('float', 7, false), ints: r('int64', 8, false), strings: r('bytes', 9), tensors: r('TensorProto', 10), graphs: r('GraphProto', 11), docString: o('string', 13), type: o('int32', 20) } },
        TensorProto: { fields: { dims: r('int64', 1, false), dataType: o('int32', 2), floatData: r('float', 4, true), int32Data: r('int32', 5, true), int64Data: r('int64', 7, true), name: o('string', 8), rawData: o('bytes', 9), doubleData: r('double', 10, true), docString: o('string', 12) } },
        ValueInfoProto: { fields: { name: o('string', 1), type: o('TypeProto', 2), docString: o('string', 3) } },
        TypeProto: { fields: { tensorType: o('TypeProtoTensor', 1), denotation: o('string', 6) } },
        TypeProtoTensor: { fields: { elemType: o('int32', 1), shape: o('TensorShapeProto', 2) } },
        TensorShapeProto: { fields: { dim: r('Dimension', 1) } },
        Dimension: { fields: { dimValue: o('int64', 1), dimParam: o('string', 2), denotation: o('string', 3) } },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(SCHEMA);
const ModelProto = root.lookupType('onnx.ModelProto');

// AttributeProto.AttributeType
const ATTR_TYPE = { f: 1, i: 2, s: 3, t: 4, g: 5, floats: 6, ints: 7 } as const;

export interface ModelOptions {
  opset?: number;
  irVersion?: number;
  producerName?: string;
  docString?: string;
  metadata?: Record<string, string>;
}

/** The default ONNX opset: Gelu-20, ScatterND-18 add, ReduceMean/Max-18 with axes as an input. */
export const DEFAULT_OPSET = 20;
const IR_FOR_OPSET = (opset: number): number => (opset >= 21 ? 10 : opset >= 19 ? 9 : 8);

function tensorProto(t: ConstTensor, name?: string): object {
  return { dims: t.dims, dataType: ONNX_DTYPE[t.dtype], rawData: t.bytes, ...(name ? { name } : {}) };
}

function valueInfo(v: Value): object {
  return {
    name: v.name,
    type: { tensorType: { elemType: ONNX_DTYPE[v.dtype], shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

function attrProto(name: string, a: Attr): object {
  if ('i' in a) return { name, type: ATTR_TYPE.i, i: a.i };
  if ('f' in a) return { name, type: ATTR_TYPE.f, f: a.f };
  if ('s' in a) return { name, type: ATTR_TYPE.s, s: new TextEncoder().encode(a.s) };
  if ('ints' in a) return { name, type: ATTR_TYPE.ints, ints: a.ints };
  if ('floats' in a) return { name, type: ATTR_TYPE.floats, floats: a.floats };
  if ('t' in a) return { name, type: ATTR_TYPE.t, t: tensorProto(a.t) };
  return { name, type: ATTR_TYPE.g, g: graphProto(a.g) };
}

function graphProto(g: Graph): object {
  return {
    name: g.name,
    node: g.nodes.map((n) => ({
      input: n.inputs.map((v) => (v ? v.name : '')),
      output: n.outputs.map((v) => v.name),
      name: n.name,
      opType: n.op,
      // Attributes sorted by name: the bytes do not depend on the order a builder wrote them in.
      attribute: Object.keys(n.attrs).sort().map((k) => attrProto(k, n.attrs[k]!)),
      ...(n.domain ? { domain: n.domain } : {}),
    })),
    initializer: [...g.initializers].map(([v, t]) => tensorProto(t, v.name)),
    input: g.inputs.map(valueInfo),
    output: g.outputs.map(valueInfo),
  };
}

/** ModelProto bytes for a root graph. */
export function serializeModel(g: Graph, opts: ModelOptions = {}): Uint8Array {
  if (g.parent) throw new Error(`serializeModel: graph "${g.name}" is a subgraph; serialize its root graph`);
  const opset = opts.opset ?? DEFAULT_OPSET;
  const msg = ModelProto.fromObject({
    irVersion: opts.irVersion ?? IR_FOR_OPSET(opset),
    producerName: opts.producerName ?? 'bert-lab',
    opsetImport: [{ domain: '', version: opset }],
    graph: graphProto(g),
    ...(opts.docString ? { docString: opts.docString } : {}),
    metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
  });
  return ModelProto.encode(msg).finish();
}

/** Decodes ModelProto bytes into a plain object (for inspection and tests). */
export function decodeModel(bytes: Uint8Array): Record<string, any> {
  return ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, bytes: Array, defaults: false });
}
