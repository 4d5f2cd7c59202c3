// One error type for every rejected setting, from stack config or from a component's arguments, so a bad
// deployment stops before any resource is touched with a message that names each offending key.
import * as pulumi from '@pulumi/pulumi';

export interface Issue {
  /** The config key (= component setting) at fault. */
  key: string;
  message: string;
  /**
   * A check across settings: the other keys it reads, each with the message in its own words. The stack config
   * reports the issue on a key the user set.
   */
  alternatives?: Record<string, string>;
}

export class SettingsError extends pulumi.RunError {
  constructor(
    readonly scope: string,
    readonly issues: Issue[],
  ) {
    super(`Invalid ${scope}:\n${issues.map((i) => `  - ${i.key}: ${i.message}`).join('\n')}`);
    this.name = 'SettingsError';
  }
}

export function assertValid(scope: string, issues: Issue[]): void {
  if (issues.length > 0) throw new SettingsError(scope, issues);
}

type Rule = [ok: boolean, key: string, message: string] | [ok: boolean, messages: Record<string, string>];

/**
 * Collects issues from `[condition, key, message]` checks: each failing condition is reported. A check across
 * settings gives a message per key it reads, the likeliest culprit first: `[condition, { key: message, ... }]`.
 */
export function check(...rules: Rule[]): Issue[] {
  return rules
    .filter(([ok]) => !ok)
    .map((rule) => {
      if (rule.length === 3) return { key: rule[1], message: rule[2] };
      const [[key, message] = ['', ''], ...others] = Object.entries(rule[1]);
      return { key, message, alternatives: Object.fromEntries(others) };
    });
}

export function inRange(n: number, min: number, max: number): boolean {
  return Number.isInteger(n) && n >= min && n <= max;
}

/** Component arguments over their defaults; an argument explicitly `undefined` keeps the default. */
export function withDefaults<D extends object, A extends object>(defaults: D, args: A): D & A {
  const given = Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined));
  return { ...defaults, ...given } as D & A;
}

/** Only `keys` of `settings`: a component's own settings out of the whole stack config. */
export function pick<T extends object, K extends keyof T>(settings: T, keys: readonly K[]): Pick<T, K> {
  return Object.fromEntries(keys.map((k) => [k, settings[k]])) as Pick<T, K>;
}
