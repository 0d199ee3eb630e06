/**
 * Progress of one resolveModel call, for a CLI line ("model.safetensors 12.0/420.1 MB, 35.2 MB/s,
 * 12 s left") or a VS Code progress notification. Byte events are throttled to ~10 per second;
 * every phase change is reported.
 */
export interface HubProgress {
  /** The Hub id being resolved. */
  id: string;
  /** The repo file this event is about. */
  file: string;
  /**
   * check: asking the Hub about the file (HEAD); wait: another process holds the file's download
   * lock; download: bytes are arriving; done: the file is in the cache (downloaded or already there).
   */
  phase: 'check' | 'wait' | 'download' | 'done';
  /** Bytes of this file in the cache so far (a resumed partial file counts from its size). */
  fileBytes: number;
  /** Size of this file, once known. */
  fileTotal?: number;
  /** Bytes so far of all the files this call downloads. */
  bytes: number;
  /** Total size of all the files this call downloads (known after the metadata pass). */
  total: number;
  /** Average speed of this call's transfer so far, bytes per second (resumed bytes excluded). */
  bytesPerSecond: number;
  /** Seconds left at that speed; undefined before any byte arrived. */
  etaSeconds?: number;
}

export type ProgressCallback = (p: HubProgress) => void;

export class ProgressTracker {
  total = 0;
  private bytes = 0;
  private transferred = 0;
  private firstByteAt = 0;
  private lastEmit = 0;
  private trailing: NodeJS.Timeout | undefined;
  private readonly files = new Map<string, { bytes: number; total?: number }>();
  constructor(private readonly id: string, private readonly cb: ProgressCallback | undefined, private readonly now: () => number = () => performance.now()) {}

  private emit(file: string, phase: HubProgress['phase'], force: boolean): void {
    if (!this.cb) return;
    const t = this.now();
    if (this.trailing) { clearTimeout(this.trailing); this.trailing = undefined; }
    if (!force && t - this.lastEmit < 100) {
      // Throttled: report this state a little later unless newer bytes come first (so the last
      // bytes before a stall are shown).
      this.trailing = setTimeout(() => { this.trailing = undefined; this.emit(file, phase, true); }, 100 - (t - this.lastEmit));
      this.trailing.unref?.();
      return;
    }
    this.lastEmit = t;
    const f = this.files.get(file) ?? { bytes: 0 };
    const secs = this.firstByteAt ? (t - this.firstByteAt) / 1000 : 0;
    const bytesPerSecond = secs > 0 ? this.transferred / secs : 0;
    const left = Math.max(0, this.total - this.bytes);
    try {
      this.cb({ id: this.id, file, phase, fileBytes: f.bytes, fileTotal: f.total, bytes: this.bytes, total: this.total, bytesPerSecond, etaSeconds: bytesPerSecond > 0 ? left / bytesPerSecond : undefined });
    } catch { /* a failing listener must not break the download */ }
  }

  check(file: string): void { this.emit(file, 'check', true); }
  /** No more events (the call ended). */
  stop(): void { if (this.trailing) clearTimeout(this.trailing); this.trailing = undefined; }
  wait(file: string): void { this.emit(file, 'wait', true); }

  /** A file starts (or resumes with `already` bytes on disk). */
  start(file: string, total: number, already: number): void {
    this.files.set(file, { bytes: already, total });
    this.bytes += already;
    this.emit(file, 'download', true);
  }

  /** `n` new bytes of `file` arrived. */
  add(file: string, n: number): void {
    if (!this.firstByteAt) this.firstByteAt = this.now();
    const f = this.files.get(file)!;
    f.bytes += n;
    this.bytes += n;
    this.transferred += n;
    this.emit(file, 'download', false);
  }

  /** The file's bytes so far were discarded (the server restarted it, or its hash check failed). */
  reset(file: string): void {
    const f = this.files.get(file);
    if (!f) return;
    this.bytes -= f.bytes;
    f.bytes = 0;
  }

  /** The file is in the cache; one that was not downloaded here (already cached) is not part of `total`. */
  done(file: string, size: number): void {
    const f = this.files.get(file);
    if (f) { this.bytes += size - f.bytes; f.bytes = size; } else this.files.set(file, { bytes: size, total: size });
    this.emit(file, 'done', true);
  }
}
