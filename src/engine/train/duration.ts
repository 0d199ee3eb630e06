/**
 * max_time's durations, as PyTorch Lightning's Trainer(max_time) takes them and people write
 * them: "10m", "1h30m", "90s", "1.5h", "2d", "00:10:00" (hours:minutes:seconds),
 * "1:00:00:00" (Lightning's days:hours:minutes:seconds), or a number of seconds.
 */

/** Units, largest first; a duration names each at most once, in this order. */
const UNITS = [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const;
const UNIT_FORM = new RegExp(`^(?=\\s*\\d)${UNITS.map(([u]) => `(?:(\\d+(?:\\.\\d+)?)\\s*${u}\\s*)?`).join('')}$`);
const CLOCK_FORM = /^(?:(\d+):)?(\d+):([0-5]\d):([0-5]\d(?:\.\d+)?)$/;

/** Both forms in one pattern, for the JSON Schema (editors check as the user types). */
export const DURATION_PATTERN = `${UNIT_FORM.source.slice(0, -1)}$|${CLOCK_FORM.source}`;
/** What a duration may be, in words, for messages and the schema. */
export const DURATION_FORMS = 'a duration such as "10m", "1h30m", "90s", "1.5h", "00:10:00" (hours:minutes:seconds) or "1:00:00:00" (days:hours:minutes:seconds)';

/** Seconds of a duration string (undefined when it has neither form); a number is seconds already. */
export function parseDuration(v: string | number): number | undefined {
  if (typeof v === 'number') return v;
  const s = v.trim();
  const clock = CLOCK_FORM.exec(s);
  if (clock) return Number(clock[1] ?? 0) * 86400 + Number(clock[2]) * 3600 + Number(clock[3]) * 60 + Number(clock[4]);
  const units = UNIT_FORM.exec(s);
  if (!units) return undefined;
  return UNITS.reduce((sum, [, secs], i) => sum + Number(units[i + 1] ?? 0) * secs, 0);
}

/** A duration as people read (and max_time takes) it: its non-zero units, "10m", "1h30m", "1d5s", "0.5s". */
export function formatDuration(seconds: number): string {
  let rest = seconds, out = '';
  for (const [u, secs] of UNITS.slice(0, 3)) {
    const n = Math.floor(rest / secs);
    if (n > 0) { out += `${n}${u}`; rest -= n * secs; }
  }
  rest = Math.round(rest * 1000) / 1000;
  return out + (rest > 0 || !out ? `${rest}s` : '');
}
