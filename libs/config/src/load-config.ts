import { existsSync } from 'node:fs';
import { appConfigSchema, type AppConfig } from './config.schema.js';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Environment = Record<string, string | undefined>;

export function parseConfig(env: Environment): AppConfig {
  // An empty variable means "use the default", as in most twelve-factor tooling.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const result = appConfigSchema.safeParse(present);
  if (result.success) return result.data;
  throw new ConfigError(result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
}

// The environment that parses back to `config` (for starting another process configured alike).
export function toEnvironment(config: AppConfig): Record<string, string> {
  const text = (value: unknown) => (value instanceof Map ? [...value].map(([k, v]) => `${k}=${v}`).join(',') : String(value));
  return Object.fromEntries(Object.entries(config).flatMap(([key, value]) => (value === undefined ? [] : [[key, text(value)]])));
}

// The one place that reads the process environment; `.env` in the working directory fills what is unset.
export function loadConfig(): AppConfig {
  if (existsSync('.env')) process.loadEnvFile('.env');
  return parseConfig(process.env);
}

// For process entry points: a bad environment stops boot with a message naming each bad variable.
export function loadConfigOrExit(): AppConfig {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}
