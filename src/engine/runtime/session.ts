/**
 * Session creation with execution-provider selection. onnxruntime-node rejects a session that
 * asks for CUDA without its provider libraries instead of falling back (facts/onnxruntime-node.md),
 * so `auto` checks what is installed, tries it, and falls back to the CPU, saying why.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { Feeds, HostTensor, fromOrt, toOrt } from './tensor.js';

export type Device = 'auto' | 'cpu' | 'cuda' | 'webgpu';
export const DEVICES: readonly Device[] = ['auto', 'cpu', 'cuda', 'webgpu'];

export interface SessionOptions {
  device?: Device;
  /** Intra-op threads; 0 or absent lets onnxruntime choose. */
  threads?: number;
  /** Training graphs contain Loop, which the WebGPU EP lacks: `auto` does not pick WebGPU for them. */
  purpose?: 'train' | 'infer';
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
}

export interface DeviceChoice { device: Exclude<Device, 'auto'>; reason: string }

/** Folder of onnxruntime-node's native libraries for this platform. */
function ortBinDir(): string {
  const pkg = dirname(require.resolve('onnxruntime-node/package.json'));
  return join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
}

export function cudaInstalled(): boolean {
  const lib = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
  return existsSync(join(ortBinDir(), lib));
}

const CUDA_HINT = 'onnxruntime-node ships without the CUDA provider libraries when installed with onnxruntime-node-install=skip; '
  + 'reinstall it with ONNXRUNTIME_NODE_INSTALL=cuda12 on a machine with CUDA 12 and cuDNN 9 to train on the GPU';

export class EngineSession {
  private constructor(readonly session: ort.InferenceSession, readonly choice: DeviceChoice) {}

  get inputNames(): readonly string[] { return this.session.inputNames; }
  get outputNames(): readonly string[] { return this.session.outputNames; }

  static async create(model: Uint8Array, opts: SessionOptions = {}): Promise<EngineSession> {
    const want = opts.device ?? 'auto';
    const base: ort.InferenceSession.SessionOptions = {
      graphOptimizationLevel: 'all',
      logSeverityLevel: opts.logSeverityLevel ?? 3,
      ...(opts.threads ? { intraOpNumThreads: opts.threads, interOpNumThreads: 1 } : {}),
    };
    const attempt = (ep: 'cpu' | 'cuda' | 'webgpu') => ort.InferenceSession.create(model, { ...base, executionProviders: [ep] });
    if (want === 'cpu') return new EngineSession(await attempt('cpu'), { device: 'cpu', reason: 'the CPU was requested' });
    if (want === 'cuda' || want === 'webgpu') {
      if (want === 'cuda' && !cudaInstalled()) throw new Error(`device "cuda" is not available: ${CUDA_HINT}. Use device "auto" or "cpu"`);
      try {
        return new EngineSession(await attempt(want), { device: want, reason: `${want} was requested` });
      } catch (e) {
        throw new Error(`device "${want}" could not start a session: ${(e as Error).message}. Use device "auto" or "cpu"`);
      }
    }
    const skipped: string[] = [];
    if (cudaInstalled()) {
      try {
        return new EngineSession(await attempt('cuda'), { device: 'cuda', reason: 'auto: the CUDA provider is installed and started' });
      } catch (e) {
        skipped.push(`CUDA failed to start (${(e as Error).message.split('\n')[0]})`);
      }
    } else skipped.push(`CUDA is not installed (${CUDA_HINT})`);
    if (opts.purpose === 'infer') {
      try {
        return new EngineSession(await attempt('webgpu'), { device: 'webgpu', reason: `auto: ${skipped.join('; ')}; WebGPU started` });
      } catch (e) {
        skipped.push(`WebGPU failed to start (${(e as Error).message.split('\n')[0]})`);
      }
    } else skipped.push('WebGPU is not used for training (its provider has no Loop kernel)');
    return new EngineSession(await attempt('cpu'), { device: 'cpu', reason: `auto: ${skipped.join('; ')}; running on the CPU` });
  }

  async run(feeds: Feeds, fetch?: readonly string[]): Promise<Record<string, HostTensor>> {
    const inputs: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) inputs[k] = toOrt(v);
    const out = fetch ? await this.session.run(inputs, [...fetch]) : await this.session.run(inputs);
    const res: Record<string, HostTensor> = {};
    for (const [k, v] of Object.entries(out)) res[k] = fromOrt(v);
    return res;
  }

  async release(): Promise<void> { await this.session.release(); }
}
