// The contract for authorization plugins (what a plugin module exports). A plugin is responsible
// for the keys its `patterns` match (same syntax as rule keys) and is asked only when a rule with
// `effect: delegate, to: <name>` applies and one of its patterns matches.
import type { Subject } from '../auth/types.js';
import type { AuthorityAnswer } from './authority.js';
import type { KeyParams } from './key-pattern.js';
import type { AccessRequest } from './types.js';

export interface PluginRequest extends AccessRequest {
  /** Named params of the plugin's first pattern that matched the key. */
  readonly params: KeyParams;
}

/** allow / deny decide; abstain lets the next rule decide. See AuthorityAnswer for ttlSeconds and scope. */
export type PluginAnswer = AuthorityAnswer;

export interface SluicePlugin {
  /** What rules delegate to (`to: <name>`): lowercase letters, digits, "-" or "_"; not "webhook". */
  readonly name: string;
  readonly patterns: readonly string[];
  /** Throwing (or an invalid answer) fails closed: the client gets 503. */
  authorize(request: PluginRequest, subject: Subject): Promise<PluginAnswer> | PluginAnswer;
}

/** A module may export the plugin itself or a factory that receives policy.plugins[].options. */
export type SluicePluginFactory = (options: Readonly<Record<string, unknown>>) => SluicePlugin | Promise<SluicePlugin>;
