/** Tensor element types the engine speaks, with their ONNX TensorProto.DataType codes. */
export type DType = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';

export const ONNX_DTYPE: Record<DType, number> = {
  float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11, bfloat16: 16,
};

export const FLOAT_DTYPES: readonly DType[] = ['float32', 'float64', 'float16', 'bfloat16'];
export const isFloat = (t: DType): boolean => FLOAT_DTYPES.includes(t);

export const BYTES_PER_ELEMENT: Record<DType, number> = {
  float32: 4, float64: 8, float16: 2, bfloat16: 2, int64: 8, int32: 4, int8: 1, uint8: 1, bool: 1,
};

/** Raw little-endian bytes of `values` in `dtype` (float16/bfloat16 take already-encoded uint16 bits). */
export function encodeValues(dtype: DType, values: ArrayLike<number | bigint>): Uint8Array {
  const n = values.length;
  let arr: ArrayBufferView;
  switch (dtype) {
    case 'float32': arr = Float32Array.from(values as ArrayLike<number>); break;
    case 'float64': arr = Float64Array.from(values as ArrayLike<number>); break;
    case 'float16': case 'bfloat16': arr = Uint16Array.from(values as ArrayLike<number>); break;
    case 'int64': arr = BigInt64Array.from(Array.from({ length: n }, (_, i) => BigInt(values[i] as number | bigint))); break;
    case 'int32': arr = Int32Array.from(values as ArrayLike<number>); break;
    case 'int8': arr = Int8Array.from(values as ArrayLike<number>); break;
    case 'uint8': case 'bool': arr = Uint8Array.from(values as ArrayLike<number>, (v) => Number(v)); break;
  }
  return new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
}
