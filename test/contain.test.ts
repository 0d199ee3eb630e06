// Path containment for paths from data: `..`, symbolic links (to files and folders, dangling),
// sibling folders sharing a prefix, and paths that do not exist yet, each against expectations
// written out by hand.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ContainmentError, containedPath } from '../src/engine/workspace/contain.js';

const top = realpathSync(mkdtempSync(join(tmpdir(), 'bertlab-contain-')));
after(() => rmSync(top, { recursive: true, force: true }));
const ws = join(top, 'ws'), runs = join(ws, 'runs'), outside = join(top, 'outside');
for (const d of [join(runs, 'a', 'checkpoint-2'), outside, join(top, 'ws2')]) mkdirSync(d, { recursive: true });
writeFileSync(join(outside, 'secret.txt'), 'x');
symlinkSync(outside, join(runs, 'link-out'));
symlinkSync(join(runs, 'a'), join(runs, 'link-in'));
symlinkSync(join(top, 'nowhere'), join(runs, 'dangling'));

describe('containedPath', () => {
  it('accepts paths inside, relative or absolute, and returns them resolved', () => {
    assert.equal(containedPath(runs, join(runs, 'a', 'checkpoint-2'), 'the runs folder'), join(runs, 'a', 'checkpoint-2'));
    assert.equal(containedPath(runs, 'a/checkpoint-2', 'the runs folder'), join(runs, 'a', 'checkpoint-2'));
    assert.equal(containedPath(runs, 'a/../a/./checkpoint-2', 'the runs folder'), join(runs, 'a', 'checkpoint-2'));
    assert.equal(containedPath(runs, join(runs, 'link-in', 'checkpoint-2'), 'the runs folder'), join(runs, 'a', 'checkpoint-2'), 'a link that stays inside');
    assert.equal(containedPath(ws, 'runs/new-run/out', 'the workspace'), join(runs, 'new-run', 'out'), 'not existing yet');
    assert.equal(containedPath(ws, ws, 'the workspace'), ws);
  });
  it('refuses .., links out, siblings with the same prefix, and the root when asked to', () => {
    const refused = (root: string, p: string, opts?: { allowRoot?: boolean }) => assert.throws(() => containedPath(root, p, 'the runs folder', opts), ContainmentError, p);
    refused(runs, '../../outside/secret.txt');
    refused(runs, join(runs, '..', '..', 'outside'));
    refused(runs, join(runs, 'link-out'));
    refused(runs, join(runs, 'link-out', 'secret.txt'));
    refused(runs, join(runs, 'link-out', 'not-yet', 'deeper'));
    refused(runs, join(runs, 'dangling'));
    refused(ws, join(top, 'ws2'));
    refused(ws, '/');
    refused(runs, runs, { allowRoot: false });
    assert.throws(() => containedPath(runs, join(runs, 'link-out'), 'the runs folder'), new RegExp(`link-out is outside the runs folder \\(${runs}\\): it resolves to ${outside}`));
  });
});
