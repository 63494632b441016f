import { existsSync } from 'node:fs';
import { appConfigSchema, type AppConfig, walletProblems } from './config.schema.js';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Environment = Record<string, string | undefined>;

// `pays`: the process pays through the wallet (the worker), so the wallet's credentials are required too.
export interface ConfigNeeds {
  pays?: boolean;
}

export function parseConfig(env: Environment, { pays = false }: ConfigNeeds = {}): AppConfig {
  // An empty variable means "use the default", as in most twelve-factor tooling.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const result = appConfigSchema.safeParse(present);
  if (!result.success) throw new ConfigError(result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  const missing = pays ? walletProblems(result.data) : [];
  if (missing.length > 0) throw new ConfigError(missing);
  return result.data;
}

// The environment that parses back to `config` (for starting another process configured alike).
export function toEnvironment(config: AppConfig): Record<string, string> {
  const text = (value: unknown) => (value instanceof Map ? [...value].map(([k, v]) => `${k}=${v}`).join(',') : String(value));
  return Object.fromEntries(Object.entries(config).flatMap(([key, value]) => (value === undefined ? [] : [[key, text(value)]])));
}

// The one place that reads the process environment; `.env` in the working directory fills what is unset.
export function loadConfig(needs: ConfigNeeds = {}): AppConfig {
  if (existsSync('.env')) process.loadEnvFile('.env');
  return parseConfig(process.env, needs);
}

// For process entry points: a bad environment stops boot with a message naming each bad variable.
export function loadConfigOrExit(needs: ConfigNeeds = {}): AppConfig {
  try {
    return loadConfig(needs);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}
