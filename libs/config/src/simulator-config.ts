import { existsSync } from 'node:fs';
import { z } from 'zod';

const port = z.coerce.number().int().min(1).max(65535);

// The development simulators' own settings (apps/alby-sim, apps/nwc-sim): never part of the service's configuration.
// The service reaches a simulator through its ordinary wallet settings (ALBY_API_URL / ALBY_ACCESS_TOKEN, NWC_URL).
export const SIMULATOR_DEFAULTS = {
  SIM_HOST: '127.0.0.1',
  SIM_PORT: 3002,
  SIM_ACCESS_TOKEN: 'simulator-access-token',
  NWC_SIM_PORT: 3003,
  NWC_SIM_ADMIN_PORT: 3004,
} as const;

export const simulatorConfigSchema = z.object({
  // Where the simulators listen.
  SIM_HOST: z.string().min(1).default(SIMULATOR_DEFAULTS.SIM_HOST),
  // The Alby simulator (apps/alby-sim): its port and the bearer token it accepts.
  SIM_PORT: port.default(SIMULATOR_DEFAULTS.SIM_PORT),
  SIM_ACCESS_TOKEN: z.string().min(8).default(SIMULATOR_DEFAULTS.SIM_ACCESS_TOKEN),
  NWC_SIM_PORT: port.default(SIMULATOR_DEFAULTS.NWC_SIM_PORT), // the development relay (WebSocket)
  NWC_SIM_ADMIN_PORT: port.default(SIMULATOR_DEFAULTS.NWC_SIM_ADMIN_PORT), // the development wallet's admin routes
});

export type SimulatorConfig = z.infer<typeof simulatorConfigSchema>;

// An empty variable means "use the default", as for the service's configuration.
export function parseSimulatorConfig(env: Record<string, string | undefined>): SimulatorConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const result = simulatorConfigSchema.safeParse(present);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `  - ${issue.path.join('.')}: ${issue.message}`);
  throw new Error(`Invalid simulator configuration:\n${problems.join('\n')}`);
}

// For the simulators' entry points (and `npm start`): `.env` fills what is unset; a bad value stops the process.
export function loadSimulatorConfig(): SimulatorConfig {
  if (existsSync('.env')) process.loadEnvFile('.env');
  try {
    return parseSimulatorConfig(process.env);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  }
}
