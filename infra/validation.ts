// One error type for every rejected setting, from stack config or from a component's arguments, so a bad
// deployment stops before any resource is touched with a message that names each offending key.
import * as pulumi from '@pulumi/pulumi';

export interface Issue {
  /** The config key or component argument at fault. */
  key: string;
  message: string;
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

/** Collects issues from `[condition, key, message]` checks: each failing condition is reported. */
export function check(...rules: [ok: boolean, key: string, message: string][]): Issue[] {
  return rules.filter(([ok]) => !ok).map(([, key, message]) => ({ key, message }));
}

export function inRange(n: number, min: number, max: number): boolean {
  return Number.isInteger(n) && n >= min && n <= max;
}

/** Component arguments over their defaults; an argument explicitly `undefined` keeps the default. */
export function withDefaults<D extends object, A extends object>(defaults: D, args: A): D & A {
  const given = Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined));
  return { ...defaults, ...given } as D & A;
}
