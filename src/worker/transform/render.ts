// The worker's image step: header probe and limits BEFORE any decoding, the output format from
// the source's bytes (format.ts), then the pipeline. `raw` passes the bytes through untouched.
import type { WorkerConfig } from '../../config/worker-schema.js';
import { decideFormat, shouldSkipProcessing, writesAnimation } from '../../transform/format.js';
import { assertWithinLimits, framesToRender, inspectSource, renderImage } from '../../transform/pipeline/index.js';
import { assertRequestWithinLimits } from '../../transform/request-limits.js';
import type { Renderer } from '../app.js';
import { sniffRaw } from './raw.js';

export function createRenderer(config: WorkerConfig, watermark: Buffer | null): Renderer {
  return async (source, ticket, deadlineMs) => {
    // Signed by the app like any transform; nothing is decoded, the type comes from the bytes.
    if (ticket.plan.raw) return sniffRaw(source);
    // The app checked this before signing; checked again in case the worker's limits are stricter.
    assertRequestWithinLimits(ticket.plan, config.limits);
    const probe = await inspectSource(source);
    if (shouldSkipProcessing(ticket.plan, probe.format)) {
      assertWithinLimits(probe, config.limits, 1);
      return { data: source, format: probe.format };
    }
    const animated = probe.pages > 1 && config.limits.maxFrames > 1;
    const format = decideFormat(
      ticket.plan,
      { fixed: ticket.format, negotiable: ticket.negotiable ?? [] },
      { format: probe.format, animated, hasAlpha: probe.hasAlpha },
    );
    const frames = framesToRender(probe, config.limits, writesAnimation(format));
    assertWithinLimits(probe, config.limits, frames);
    const result = await renderImage(source, ticket.plan, {
      format,
      frames,
      limits: config.limits,
      defaultQuality: config.defaultQuality,
      avifEffort: config.avifEffort,
      watermark,
      ...(deadlineMs !== undefined && { deadlineMs }),
    });
    return { data: result.data, format: result.format };
  };
}
