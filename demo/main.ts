/**
 * The README's demo: trains a small model on real text with the compiled ONNX train step, in a
 * worker thread, and reports the loss falling and held-out accuracy against the majority class.
 * (The trainer issue turns this into BERT pretraining and fine-tuning.)
 */
import { join } from 'node:path';
import { ERAS, loadEraData, trainEra } from './sotu-era.js';
import { EngineWorker } from '../src/engine/runtime/worker-client.js';
import { Device } from '../src/engine/runtime/session.js';

async function main() {
  const device = (process.env['BERT_LAB_DEVICE'] ?? 'auto') as Device;
  console.log('BERT Lab engine demo: which era is a State of the Union passage from?');
  const data = loadEraData();
  console.log(`data: ${data.train.length} training and ${data.test.length} held-out passages of 64 words (held-out addresses never seen), eras ${ERAS.join(' | ')}`);
  const worker = new EngineWorker(join(__dirname, '..', 'src', 'engine', 'runtime', 'worker-main.js'));
  try {
    let announced = false;
    const t0 = performance.now();
    const r = await trainEra({
      steps: 400,
      runnerFor: async (m) => {
        const s = await worker.createSession(m, { device, purpose: 'train' });
        if (!announced) console.log(`device: ${s.choice.device} — ${s.choice.reason}`);
        announced = true;
        return s;
      },
      onSteps: (step, losses) => {
        if (step % 40 === 0) console.log(`step ${String(step).padStart(3)}  loss ${(losses.reduce((a, b) => a + b, 0) / losses.length).toFixed(4)}`);
      },
    }, data);
    console.log(`trained ${r.params.toLocaleString()} parameters for 400 steps in ${((performance.now() - t0) / 1000).toFixed(1)} s (${r.msPerStep.toFixed(2)} ms/step, 20 steps per ONNX Loop run)`);
    console.log(`held-out accuracy: ${(100 * r.accuracy).toFixed(1)}%  (majority-class baseline ${(100 * r.baseline).toFixed(1)}%, ${r.testSize} passages)`);
  } finally {
    await worker.terminate();
  }
}

main().catch((e) => { console.error(e instanceof Error ? e.message : e); process.exit(1); });
