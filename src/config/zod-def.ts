// The parts of a zod v4 schema's internal definition that the env mapper and the generated
// configuration reference read. zod has no public walker; both read `_zod.def` the same way.
import type { z } from 'zod';

export interface ZodDef {
  readonly type: string;
  readonly innerType?: z.ZodType;
  readonly in?: z.ZodType;
  readonly out?: z.ZodType;
  readonly shape?: Record<string, z.ZodType>;
  readonly options?: readonly z.ZodType[];
  readonly keyType?: z.ZodType;
  readonly valueType?: z.ZodType;
  readonly element?: z.ZodType;
  readonly values?: readonly unknown[];
  readonly entries?: Record<string, unknown>;
  readonly getter?: () => z.ZodType;
  readonly catchall?: z.ZodType;
  readonly defaultValue?: unknown;
  readonly format?: string;
  readonly checks?: readonly z.ZodType[];
}

export function defOf(schema: z.ZodType): ZodDef {
  return (schema as unknown as { _zod: { def: ZodDef } })._zod.def;
}
