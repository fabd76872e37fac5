// The worker's image step: header probe and limits BEFORE any decoding, then the pipeline.
import type { WorkerConfig } from '../../config/worker-schema.js';
import { shouldSkipProcessing } from '../format.js';
import { assertWithinLimits, probeImage, renderImage } from '../pipeline/index.js';
import type { Renderer } from './app.js';

export function createRenderer(config: WorkerConfig, watermark: Buffer | null): Renderer {
  return async (source, ticket) => {
    const probe = await probeImage(source);
    assertWithinLimits(probe, config.limits);
    if (shouldSkipProcessing(ticket.plan, probe.format)) return { data: source, format: probe.format };
    const result = await renderImage(source, ticket.plan, {
      format: ticket.format,
      limits: config.limits,
      defaultQuality: config.defaultQuality,
      avifEffort: config.avifEffort,
      watermark,
    });
    return { data: result.data, format: result.format };
  };
}
