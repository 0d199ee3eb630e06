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

export const fmtBytes = (n: number): string => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n} B`);
const fmtSeconds = (s: number): string => (s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, '0')}s` : `${Math.ceil(s)}s`);

/** "org/name: model.safetensors 12.0 MB/420.1 MB, 35.2 MB/s, ETA 12s" (the state of one event, for a redrawn terminal line). */
export function progressLine(p: HubProgress): string {
  const size = p.fileTotal !== undefined ? `${fmtBytes(p.fileBytes)}/${fmtBytes(p.fileTotal)}` : fmtBytes(p.fileBytes);
  const speed = p.bytesPerSecond > 0 ? `, ${fmtBytes(p.bytesPerSecond)}/s` : '';
  const eta = p.etaSeconds !== undefined && p.total > 0 ? `, ETA ${fmtSeconds(p.etaSeconds)}` : '';
  const all = p.total > 0 && p.fileTotal !== p.total ? ` (all files ${fmtBytes(p.bytes)}/${fmtBytes(p.total)})` : '';
  return `${p.id}: ${p.file} ${size}${all}${speed}${eta}`;
}

/**
 * A progress callback that speaks in whole lines, for logs (the trainer's, a CLI whose stderr is
 * not a terminal): a line when a file starts (or resumes) downloading and one when it is in the
 * cache, one when another process holds its lock, and with `everyMs` at most one line of bytes so
 * far per that many milliseconds. Files already in the cache say nothing.
 */
export function progressLines(say: (line: string) => void, opts: { everyMs?: number; now?: () => number } = {}): ProgressCallback {
  const now = opts.now ?? (() => performance.now());
  const started = new Set<string>(), waited = new Set<string>();
  let last = now();
  return (p) => {
    switch (p.phase) {
      case 'check': return;
      case 'wait':
        if (!waited.has(p.file)) { waited.add(p.file); say(`${p.id}: ${p.file}: waiting for another process that is downloading it`); }
        return;
      case 'download':
        if (!started.has(p.file)) {
          started.add(p.file);
          last = now();
          const total = p.fileTotal !== undefined ? fmtBytes(p.fileTotal) : 'size unknown';
          say(`${p.id}: downloading ${p.file} (${total}${p.fileBytes > 0 ? `; resuming at ${fmtBytes(p.fileBytes)}` : ''})`);
        } else if (opts.everyMs !== undefined && now() - last >= opts.everyMs) {
          last = now();
          say(progressLine(p));
        }
        return;
      case 'done':
        if (started.delete(p.file)) say(`${p.id}: ${p.file} done (${fmtBytes(p.fileTotal ?? p.fileBytes)}${p.bytesPerSecond > 0 ? `, ${fmtBytes(p.bytesPerSecond)}/s` : ''})`);
        return;
    }
  };
}

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
