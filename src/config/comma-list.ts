// Settings that are lists in a config file and comma-separated strings in the environment
// (SLUICE_REDIS__NODES=h1:6379,h2:6379; imgproxy's IMGPROXY_KEYS style).
import { z } from 'zod';

/** One value, comma-separated values or a list; each then checked by `item`. */
export function commaList<T extends z.ZodType>(item: T, typeError: string) {
  return z
    .union([z.string(), z.array(z.unknown())], { error: typeError })
    .transform((value) =>
      typeof value === 'string'
        ? value
            .split(',')
            .map((v) => v.trim())
            .filter((v) => v !== '')
        : value,
    )
    .pipe(z.array(item));
}
