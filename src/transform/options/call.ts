// One option as written in a URL path segment or a preset: `name:arg1:…:argN`.

export interface OptionCall {
  readonly name: string;
  readonly args: readonly string[];
}

/** The segment `rs:fit:300:200` → { name: 'rs', args: ['fit', '300', '200'] }; null when it has no `:`. */
export function parseOptionCall(segment: string): OptionCall | null {
  const parts = segment.split(':');
  const [name, ...args] = parts;
  if (name === undefined || args.length === 0) return null;
  return { name, args };
}
