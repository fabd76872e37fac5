import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BufferedDestination } from '../../src/observability/log-destination.js';
import { createBufferedLogger, flushLogger } from '../../src/observability/logger.js';

async function withFile(body: (file: string, fd: number) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-logdest-'));
  const file = path.join(dir, 'log');
  const fd = openSync(file, 'w');
  try {
    await body(file, fd);
  } finally {
    closeSync(fd);
    await rm(dir, { recursive: true, force: true });
  }
}

const flushed = (d: BufferedDestination): Promise<void> => new Promise((resolve) => d.flush(() => resolve()));

describe('buffered log destination', () => {
  it('holds lines until a batch is full or flushed, and keeps their order', async () => {
    await withFile(async (file, fd) => {
      const d = new BufferedDestination(fd, { minLength: 1000, flushIntervalMs: 60_000 });
      try {
        d.write('a\n');
        d.write('b\n');
        await new Promise((resolve) => setTimeout(resolve, 50));
        assert.equal(readFileSync(file, 'utf8'), '', 'below minLength nothing is written yet');
        const lines = Array.from({ length: 2000 }, (_, i) => `line ${i} ${'é'.repeat(i % 7)}\n`);
        for (const line of lines) d.write(line);
        await flushed(d);
        assert.equal(readFileSync(file, 'utf8'), `a\nb\n${lines.join('')}`);
      } finally {
        d.end();
      }
    });
  });

  it("writes a quiet process's lines on its timer", async () => {
    await withFile(async (file, fd) => {
      const d = new BufferedDestination(fd, { minLength: 1000, flushIntervalMs: 20 });
      try {
        d.write('quiet\n');
        const deadline = Date.now() + 2000;
        while (readFileSync(file, 'utf8') === '' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
        assert.equal(readFileSync(file, 'utf8'), 'quiet\n');
      } finally {
        d.end();
      }
    });
  });

  it('is bounded: beyond maxLength lines are dropped (and said so), not queued', async () => {
    await withFile(async (file, fd) => {
      const d = new BufferedDestination(fd, { minLength: 1_000_000, maxLength: 100, flushIntervalMs: 60_000 });
      const dropped: string[] = [];
      d.on('drop', (line: string) => dropped.push(line));
      const stderrWrite = process.stderr.write;
      process.stderr.write = (() => true) as typeof process.stderr.write;
      try {
        for (let i = 0; i < 20; i++) d.write(`${String(i).padStart(9, '0')}\n`);
      } finally {
        process.stderr.write = stderrWrite;
      }
      d.end(); // flushSync: what was kept is written
      assert.equal(dropped.length, 10);
      assert.equal(readFileSync(file, 'utf8').split('\n').length - 1, 10);
    });
  });

  it('through pino: flushLogger resolves once every line is in the file', async () => {
    await withFile(async (file, fd) => {
      const logger = createBufferedLogger('info', { fd, flushIntervalMs: 60_000 });
      for (let i = 0; i < 500; i++) logger.info({ audit: { n: i } }, 'access decision');
      await flushLogger(logger);
      const lines = readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { audit: { n: number } });
      assert.deepEqual(
        lines.map((l) => l.audit.n),
        Array.from({ length: 500 }, (_, i) => i),
      );
    });
  });
});
