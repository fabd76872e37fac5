import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { mkdir, mkdtemp, rm, symlink, writeFile, appendFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openManifest, readManifest } from '../../src/ops/migrate/manifest.js';
import { progressFigures, progressLine, progressReporter } from '../../src/ops/migrate/progress.js';
import { listSource } from '../../src/ops/migrate/source.js';
import { taskSignals } from '../../src/ops/migrate/task-signals.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-ops-unit-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('migration source listing', () => {
  it('keys are "/"-joined relative paths; links inside the root are followed, links out refused', async () => {
    const root = path.join(dir, 'root');
    await mkdir(path.join(root, 'a', 'b'), { recursive: true });
    await writeFile(path.join(root, 'a', 'b', 'file one.txt'), 'one');
    await writeFile(path.join(root, 'top.txt'), 'top');
    await writeFile(path.join(dir, 'outside.txt'), 'outside');
    await symlink(path.join(root, 'top.txt'), path.join(root, 'alias.txt'));
    await symlink(path.join(dir, 'outside.txt'), path.join(root, 'a', 'escape.txt'));
    await symlink(path.join(dir, 'missing'), path.join(root, 'dangling'));
    await symlink(dir, path.join(root, 'parent-dir'));
    const listing = await listSource(root);
    assert.deepEqual(
      listing.files.map((f) => [f.key, f.size]),
      [
        ['a/b/file one.txt', 3],
        ['alias.txt', 3],
        ['top.txt', 3],
      ],
    );
    assert.deepEqual(listing.refused, [
      { key: 'a/escape.txt', reason: 'symlink leaves the store root' },
      { key: 'dangling', reason: 'dangling symlink' },
      { key: 'parent-dir', reason: 'symlink leaves the store root' },
    ]);
  });
});

describe('migration manifest', () => {
  const entry = (key: string, sha256: string) => ({ key, size: 1, mtimeMs: 1, sha256, bucket: 'b', verifiedAt: '2026-11-24T00:00:00.000Z' });

  it('appends lines, survives a torn last line, and the newest entry per key wins', async () => {
    const file = path.join(dir, 'manifest.jsonl');
    const manifest = await openManifest(file);
    await Promise.all([manifest.append(entry('a', '1')), manifest.append(entry('b', '2'))]);
    await manifest.close();
    await appendFile(file, '{"key":"c","size":1,"sha2'); // a crash mid-write
    const resumed = await openManifest(file);
    assert.deepEqual([...resumed.entries.keys()], ['a', 'b']);
    await resumed.append(entry('a', '3'));
    await resumed.close();
    const entries = await readManifest(file);
    assert.equal(entries.get('a')?.sha256, '3');
    assert.equal(entries.size, 2);
  });

  it('a missing manifest is empty', async () => {
    assert.equal((await readManifest(path.join(dir, 'none.jsonl'))).size, 0);
  });
});

describe('migration progress figures', () => {
  const MB = 1_048_576;

  it('bytes done/total, rate and an ETA from the bytes still to go', () => {
    const p = { totalFiles: 10, totalBytes: 100 * MB, doneFiles: 4, doneBytes: 25 * MB };
    assert.deepEqual(progressFigures(p, 10_000), { amount: '25.0/100.0 MB', rate: '2.5 MB/s', eta: '30s' });
    assert.equal(progressLine('verify', p, 10_000), 'verify: 4/10 files, 25.0/100.0 MB, 2.5 MB/s, ETA 30s');
    assert.equal(progressFigures({ ...p, doneBytes: 1 * MB }, 10_000).eta, '16m30s');
    assert.equal(progressFigures({ ...p, totalBytes: 4000 * MB, doneBytes: 1 * MB }, 10_000).eta, '11h06m30s');
  });

  it('small totals are shown in the unit that makes them visible, never as 0.0/0.0 MB', () => {
    assert.equal(progressLine('verify', { totalFiles: 4, totalBytes: 24, doneFiles: 2, doneBytes: 12 }, 1000), 'verify: 2/4 files, 12/24 B, 0.0 KB/s, ETA 1s');
    assert.equal(
      progressLine('verify', { totalFiles: 4, totalBytes: 8 * 1024, doneFiles: 1, doneBytes: 3 * 1024 + 100 }, 1000),
      'verify: 1/4 files, 3.1/8.0 KB, 3.1 KB/s, ETA 2s',
    );
    assert.equal(progressFigures({ totalFiles: 1, totalBytes: 5 * 2 ** 30, doneFiles: 0, doneBytes: 2 ** 30 }, 4000).amount, '1.0/5.0 GB');
  });

  it('nothing done yet → ETA "?"; all done → 0s; only empty files (or deletions) → ETA by files', () => {
    assert.equal(progressFigures({ totalFiles: 3, totalBytes: 9, doneFiles: 0, doneBytes: 0 }, 1000).eta, '?');
    assert.equal(progressFigures({ totalFiles: 3, totalBytes: 9, doneFiles: 3, doneBytes: 9 }, 1000).eta, '0s');
    assert.equal(progressFigures({ totalFiles: 4, totalBytes: 0, doneFiles: 1, doneBytes: 0 }, 1000).eta, '3s');
  });

  it('without a terminal: a line at once, then at most every 5 s, and always the last one', () => {
    let clock = 0;
    const lines: string[] = [];
    const stream = { isTTY: false, write: (text: string) => lines.push(text) } as unknown as NodeJS.WriteStream;
    const reporter = progressReporter(stream, 'migrate', () => clock);
    const at = (ms: number, doneFiles: number): void => {
      clock = ms;
      reporter.update({ totalFiles: 3, totalBytes: 3 * MB, doneFiles, doneBytes: doneFiles * MB });
    };
    at(1000, 1);
    at(2000, 2);
    at(3000, 3);
    assert.deepEqual(lines, ['migrate: 1/3 files, 1.0/3.0 MB, 1.0 MB/s, ETA 2s\n', 'migrate: 3/3 files, 3.0/3.0 MB, 1.0 MB/s, ETA 0s\n']);
  });
});

describe('per-task abort signals', () => {
  it("parallel tasks each get their own signal; the run's signal carries one listener, and aborting it reaches all", async () => {
    const controller = new AbortController();
    const tasks = taskSignals(controller.signal);
    const seen: AbortSignal[] = [];
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const running = Array.from({ length: 50 }, () =>
      tasks.run(async (signal) => {
        seen.push(signal);
        // What an SDK call or stream does with the signal it is given.
        for (let i = 0; i < 3; i++) signal.addEventListener('abort', () => undefined);
        await gate;
        return signal.aborted;
      }),
    );
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(new Set(seen).size, 50);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
    controller.abort();
    release();
    assert.deepEqual(new Set(await Promise.all(running)), new Set([true]));
    assert.equal(await tasks.run(async (signal) => signal.aborted), true, 'a task started after the abort starts aborted');
    tasks.dispose();
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  });
});
