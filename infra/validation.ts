// One error type for every rejected setting, from stack config or from a component's arguments, so a bad
// deployment stops before any resource is touched with a message that names each offending key.
import * as pulumi from '@pulumi/pulumi';

export interface Issue {
  /** The config key (= component setting) at fault. */
  key: string;
  message: string;
  /** The other keys a check across settings reads: the stack config reports it on one the user set. */
  alternatives?: string[];
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

/**
 * Collects issues from `[condition, key, message]` checks: each failing condition is reported. A check across
 * settings names them all, the one at fault first: `[condition, [key, ...others], message]`.
 */
export function check(...rules: [ok: boolean, key: string | string[], message: string][]): Issue[] {
  return rules
    .filter(([ok]) => !ok)
    .map(([, keys, message]) => {
      const [key = '', ...alternatives] = typeof keys === 'string' ? [keys] : keys;
      return alternatives.length > 0 ? { key, message, alternatives } : { key, message };
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
