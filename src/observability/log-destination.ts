// An asynchronous, bounded, batching log destination for the app's JSON lines (one audit line
// per access decision). Lines are collected as strings and written with one fs.write per batch:
// a blocking write(2) per line, or an async write per line through libuv's thread pool, costs more
// CPU than the line itself. (sonic-boom, pino's own destination, re-measures its whole pending
// buffer on every line, copying it: quadratic in the batch size.)
import { EventEmitter } from 'node:events';
import { write, writeSync } from 'node:fs';

export interface BufferedDestinationOptions {
  /** Characters collected before a write starts (default 32 Ki). */
  readonly minLength?: number;
  /** Characters held at most while the destination is slower than the app; beyond, lines are dropped. */
  readonly maxLength?: number;
  /** What a quiet process holds is written this often (ms; default 200). */
  readonly flushIntervalMs?: number;
}

const RETRY_MS = 10;

export class BufferedDestination extends EventEmitter {
  private pending: string[] = [];
  private pendingLength = 0;
  private writing = false;
  private waiters: (() => void)[] = [];
  private dropping = false;
  private readonly minLength: number;
  private readonly maxLength: number;
  private readonly timer: NodeJS.Timeout;
  private readonly onExit = (): void => this.flushSync();

  constructor(
    private readonly fd: number,
    options: BufferedDestinationOptions = {},
  ) {
    super();
    this.minLength = options.minLength ?? 32 * 1024;
    this.maxLength = options.maxLength ?? 16 * 1024 * 1024;
    this.timer = setInterval(() => {
      if (!this.writing && this.pendingLength > 0) this.startWrite();
    }, options.flushIntervalMs ?? 200);
    this.timer.unref();
    // Whatever is still queued when the process exits (after close(), or on a crash) is written synchronously.
    process.on('exit', this.onExit);
  }

  /** pino's stream interface: one serialized line (with its newline). */
  write(line: string): boolean {
    if (this.pendingLength + line.length > this.maxLength) {
      if (!this.dropping) process.stderr.write('sluice: log destination too slow: dropping log lines\n');
      this.dropping = true;
      this.emit('drop', line);
      return false;
    }
    this.pending.push(line);
    this.pendingLength += line.length;
    if (!this.writing && this.pendingLength >= this.minLength) this.startWrite();
    return true;
  }

  /** Calls back once every line written so far has been handed to the file descriptor. */
  flush(callback: (error?: Error) => void = () => undefined): void {
    if (!this.writing && this.pendingLength === 0) {
      callback();
      return;
    }
    this.waiters.push(callback);
    if (!this.writing) this.startWrite();
  }

  /** Writes every queued line now, blocking (used at exit; an in-flight async write finishes on its own). */
  flushSync(): void {
    if (this.pendingLength === 0) return;
    const data = Buffer.from(this.take(), 'utf8');
    let offset = 0;
    const deadline = Date.now() + 1000;
    while (offset < data.length) {
      try {
        offset += writeSync(this.fd, data, offset, data.length - offset);
      } catch (error) {
        // A non-blocking pipe that is full: wait a little for the reader, but never forever.
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN' || Date.now() > deadline) return;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
      }
    }
  }

  /** Stops the timer and the exit hook (lines still queued are written first, synchronously). */
  end(): void {
    this.flushSync();
    clearInterval(this.timer);
    process.removeListener('exit', this.onExit);
  }

  private take(): string {
    const data = this.pending.length === 1 ? (this.pending[0] as string) : this.pending.join('');
    this.pending = [];
    this.pendingLength = 0;
    return data;
  }

  private startWrite(): void {
    this.writing = true;
    this.writeFrom(Buffer.from(this.take(), 'utf8'), 0);
  }

  private writeFrom(data: Buffer, offset: number): void {
    write(this.fd, data, offset, data.length - offset, null, (error, written) => {
      if (error !== null) {
        if (error.code === 'EAGAIN') {
          setTimeout(() => this.writeFrom(data, offset), RETRY_MS);
          return;
        }
        this.emit('error', error);
      } else if (offset + written < data.length) {
        this.writeFrom(data, offset + written);
        return;
      }
      this.writing = false;
      this.dropping = false;
      if (this.pendingLength > 0 && (this.pendingLength >= this.minLength || this.waiters.length > 0)) {
        this.startWrite();
        return;
      }
      if (this.pendingLength === 0) {
        const waiters = this.waiters;
        this.waiters = [];
        for (const waiter of waiters) waiter();
      }
    });
  }
}
