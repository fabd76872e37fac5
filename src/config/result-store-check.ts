// Cross-setting checks of transform.resultStore (start-up): results are private derivatives of
// private sources, so the store holding them must be plain (nginx reads it directly) and must not
// be reachable any other way: a rule naming it is refused, and the app serves no route for it
// (server.ts), so rules for every store (`*`) do not reach it either.

/** What the checks read: a structural slice of SluiceConfig (no import of the full schema). */
export interface ResultStoreCheckInput {
  readonly transform: { readonly resultStore?: { readonly store: string; readonly prefix: string }; readonly localStore?: string };
  readonly stores: Readonly<Record<string, { readonly type: 'fs' | 's3'; readonly encrypted: boolean; readonly bucketTemplate?: string }>>;
  readonly rules: readonly { readonly id?: string; readonly store: string }[];
}

export interface ResultStoreIssue {
  readonly path: (string | number)[];
  readonly message: string;
}

/** Problems that stop start-up, with the setting they belong to. */
export function resultStoreIssues(config: ResultStoreCheckInput): ResultStoreIssue[] {
  const settings = config.transform.resultStore;
  if (settings === undefined) return [];
  const at = ['transform', 'resultStore', 'store'];
  const store = config.stores[settings.store];
  if (store === undefined) return [{ path: at, message: `"${settings.store}" is not a configured store` }];
  const issues: ResultStoreIssue[] = [];
  // nginx serves results straight from the store: ciphertext would be served as an image.
  if (store.encrypted) issues.push({ path: at, message: `"${settings.store}" is encrypted: results are read by nginx directly, use a plain store` });
  if (store.bucketTemplate !== undefined) issues.push({ path: at, message: `"${settings.store}" has a bucketTemplate: results need one fixed bucket` });
  if (config.transform.localStore === settings.store)
    issues.push({ path: at, message: `"${settings.store}" is transform.localStore: results would be readable as transform sources` });
  for (const [index, rule] of config.rules.entries()) {
    if (rule.store === settings.store)
      issues.push({ path: ['rules', index, 'store'], message: `names the result store "${settings.store}": results are private, no rule may reach them` });
  }
  return issues;
}
