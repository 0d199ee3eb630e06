/**
 * Host tensors: plain typed arrays with a dtype and dims, the form in which tensors cross
 * threads (their buffers transfer) and enter or leave onnxruntime.
 */
import * as ort from 'onnxruntime-node';
import { DType } from '../ir/dtype.js';

export type TypedData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | Int8Array | Uint16Array;
export interface HostTensor { dtype: DType; dims: number[]; data: TypedData }
export type Feeds = Record<string, HostTensor>;

const ORT_TYPE: Partial<Record<DType, ort.Tensor.Type>> = {
  float32: 'float32', float64: 'float64', float16: 'float16', int64: 'int64', int32: 'int32', int8: 'int8', uint8: 'uint8', bool: 'bool',
};
const FROM_ORT: Record<string, DType> = Object.fromEntries(Object.entries(ORT_TYPE).map(([k, v]) => [v, k as DType]));

export function tensor(dtype: DType, dims: number[], data: TypedData | ArrayLike<number>): HostTensor {
  const n = dims.reduce((a, b) => a * b, 1);
  let d: TypedData;
  if (ArrayBuffer.isView(data)) d = data as TypedData;
  else if (dtype === 'float32') d = Float32Array.from(data);
  else if (dtype === 'float64') d = Float64Array.from(data);
  else if (dtype === 'int64') d = BigInt64Array.from(Array.from(data, (x) => BigInt(x)));
  else if (dtype === 'int32') d = Int32Array.from(data);
  else if (dtype === 'bool' || dtype === 'uint8') d = Uint8Array.from(data);
  else if (dtype === 'int8') d = Int8Array.from(data);
  else d = Uint16Array.from(data);
  if (d.length !== n) throw new Error(`tensor: dims [${dims}] need ${n} values, got ${d.length}`);
  return { dtype, dims, data: d };
}

export const scalarTensor = (dtype: DType, x: number): HostTensor => tensor(dtype, [], [x]);

export function toOrt(t: HostTensor): ort.Tensor {
  const type = ORT_TYPE[t.dtype];
  if (!type) throw new Error(`onnxruntime cannot take ${t.dtype} tensors as inputs or outputs; keep them inside the graph`);
  return new ort.Tensor(type, t.data as never, t.dims);
}

export function fromOrt(t: ort.Tensor): HostTensor {
  const dtype = FROM_ORT[t.type];
  if (!dtype) throw new Error(`unsupported output type ${t.type}`);
  return { dtype, dims: [...t.dims], data: t.data as TypedData };
}

/** Numbers of a float or integer tensor, as a plain array (bigints converted). */
export const toNumbers = (t: HostTensor): number[] => Array.from(t.data as ArrayLike<number | bigint>, Number);
