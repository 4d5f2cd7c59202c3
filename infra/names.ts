// Physical names: the existing system's names in `prod`, an environment in them everywhere else.

/**
 * Names without an environment in them (cluster, service, log groups, roles, topic) keep the existing names in
 * `prod` and get an `-<environment>` suffix elsewhere, so a second stack in the same account cannot collide.
 */
export function environmentName(base: string, environment: string): string {
  return environment === 'prod' ? base : `${base}-${environment}`;
}

/** Prefix of the names and Name tags this stack gives its network and alarm resources, e.g. `retainwise-prod`. */
export const namePrefix = (environment: string): string => `retainwise-${environment}`;
