/** A configuration problem found at start-up; the message always names the setting. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }

  static forKey(key: string, message: string): ConfigError {
    return new ConfigError([`${key} (${envNameFor(key.split('.'))}): ${message}`]);
  }
}

/** The environment variable that sets a config path: stores.docs.root → SLUICE_STORES__DOCS__ROOT. */
export function envNameFor(path: readonly (string | number)[]): string {
  const parts = path.map((p) =>
    String(p)
      .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
      .toUpperCase(),
  );
  return `SLUICE_${parts.join('__')}`;
}
