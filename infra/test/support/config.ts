// The stack configuration parsed as the Pulumi engine hands it to the program: the minimal prod
// configuration plus the given keys.
import { parseConfig, type StackConfig } from '../../config.js';
import { SettingsError, type Issue } from '../../validation.js';
import { engineConfig, MINIMAL_CONFIG, type ConfigValue } from './program.js';

export const parse = (settings: Record<string, ConfigValue>, stack = 'prod'): StackConfig =>
  parseConfig(engineConfig({ ...MINIMAL_CONFIG, ...settings }), { project: 'retainwise', stack });

/** The problems the configuration is rejected with. */
export function issues(settings: Record<string, ConfigValue>): Issue[] {
  try {
    parse(settings);
  } catch (error) {
    if (error instanceof SettingsError) return error.issues;
    throw error;
  }
  throw new Error('the configuration was accepted');
}

export const SUBNETS = ['subnet-0a1b2c3d4e5f60719', 'subnet-0a1b2c3d4e5f6071a'];
