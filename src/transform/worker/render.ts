// The worker's image step: header probe and limits BEFORE any decoding, then the pipeline.
import type { WorkerConfig } from '../../config/worker-schema.js';
import { shouldSkipProcessing } from '../format.js';
import { assertWithinLimits, probeImage, renderImage } from '../pipeline/index.js';
import { assertRequestWithinLimits } from '../request-limits.js';
import type { Renderer } from './app.js';

export function createRenderer(config: WorkerConfig, watermark: Buffer | null): Renderer {
  return async (source, ticket, deadlineMs) => {
    // The app checked this before signing; checked again in case the worker's limits are stricter.
    assertRequestWithinLimits(ticket.plan, config.limits);
    const probe = await probeImage(source);
    assertWithinLimits(probe, config.limits);
    if (shouldSkipProcessing(ticket.plan, probe.format)) return { data: source, format: probe.format };
    const result = await renderImage(source, ticket.plan, {
      format: ticket.format,
      limits: config.limits,
      defaultQuality: config.defaultQuality,
      avifEffort: config.avifEffort,
      watermark,
      ...(deadlineMs !== undefined && { deadlineMs }),
    });
    return { data: result.data, format: result.format };
  };
}
