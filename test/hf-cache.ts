/**
 * A Hugging Face cache tree built by hand, the way huggingface_hub lays it out, for the extension's
 * tests: models--org--name/{blobs/<etag>, refs/<revision> holding the commit (no newline),
 * snapshots/<commit>/<file> as relative symlinks ../../blobs/<etag>}. The etag is the sha256 for
 * LFS files (*.safetensors, *.bin) and the git blob sha1 for the others, as on the Hub.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

export const FIXTURE = join(__dirname, '..', '..', 'test', 'fixtures', 'hf-tiny-bert');
export const TINY_FILES = ['config.json', 'model.safetensors', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt'];
export const tinyBert = (): Record<string, Buffer> => Object.fromEntries(TINY_FILES.map((f) => [f, readFileSync(join(FIXTURE, f))]));

const etagOf = (file: string, data: Buffer) => (/\.(safetensors|bin)$/.test(file)
  ? createHash('sha256').update(data).digest('hex')
  : createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex'));

/** A 40-hex commit hash made from a name (stable across runs). */
export const commitOf = (name: string): string => createHash('sha1').update(`commit ${name}`).digest('hex');

/** Adds one snapshot of `id` to the cache at `cacheDir`; returns the snapshot folder. */
export function addSnapshot(cacheDir: string, id: string, files: Record<string, Buffer>, opts: { commit?: string; refs?: string[] } = {}): string {
  const repo = join(cacheDir, `models--${id.split('/').join('--')}`);
  const commit = opts.commit ?? commitOf(`${id} ${Object.keys(files).join(',')}`);
  for (const [f, data] of Object.entries(files)) {
    const blob = join(repo, 'blobs', etagOf(f, data));
    const pointer = join(repo, 'snapshots', commit, f);
    mkdirSync(dirname(blob), { recursive: true });
    mkdirSync(dirname(pointer), { recursive: true });
    writeFileSync(blob, data);
    symlinkSync(relative(dirname(pointer), blob), pointer);
  }
  for (const r of opts.refs ?? ['main']) {
    mkdirSync(dirname(join(repo, 'refs', r)), { recursive: true });
    writeFileSync(join(repo, 'refs', r), commit);
  }
  return join(repo, 'snapshots', commit);
}

/** Bytes of the distinct contents among `files` (what the cache holds for them: one blob per etag). */
export const blobBytes = (files: Record<string, Buffer>): number => {
  const seen = new Map<string, number>();
  for (const [f, d] of Object.entries(files)) seen.set(etagOf(f, d), d.length);
  return [...seen.values()].reduce((a, b) => a + b, 0);
};
