// What a render produces: shared by the worker's route (app.ts), raw pass-through and the result store.
import type { Ticket } from '../../transform/internal-token.js';

export interface RenderedImage {
  readonly data: Buffer;
  /** Format name of the bytes (the decided one, or the source's when processing was skipped). */
  readonly format: string;
  /** Content-Type when it is not the format's own (raw pass-through); default from `format`. */
  readonly contentType?: string;
  /** Extension of the download name; default from `format`; null = none. */
  readonly extension?: string | null;
  /** Never inline (active or unknown content passed through raw). */
  readonly attachmentOnly?: boolean;
}

/**
 * Probe, limits, transform: the image work proper (src/transform/pipeline). `deadlineMs`
 * (Date.now() scale) is when the request times out: the render must stop by then.
 */
export type Renderer = (source: Buffer, ticket: Ticket, deadlineMs?: number) => Promise<RenderedImage>;
