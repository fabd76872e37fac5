// Image transform URLs: imgproxy-compatible signing, presets, allowed options.
import { z } from 'zod';

export const transformSchema = z.strictObject({}).default({});
