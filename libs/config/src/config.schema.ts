import { z } from 'zod';

const port = z.coerce.number().int().min(1).max(65535);
const positiveInt = z.coerce.number().int().positive();
const url = (protocols: string[]) =>
  z.url({ protocol: new RegExp(`^(${protocols.join('|')})$`), error: `must be a ${protocols.join(' or ')} URL` });

// Every setting the service reads, with its default. `.env.example` documents the same list.
export const configSchema = z.object({
  DATABASE_URL: url(['postgres', 'postgresql']).default('postgresql://postgres@127.0.0.1:5432/splitstream'),
  REDIS_URL: url(['redis', 'rediss']).default('redis://127.0.0.1:6379/0'),
  QUEUE_PREFIX: z.string().regex(/^[a-z0-9_-]{1,32}$/i, 'must be 1-32 letters, digits, - or _').default('splitstream'),
  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: port.default(3000),
  WORKER_HOST: z.string().min(1).default('127.0.0.1'),
  WORKER_PORT: port.default(3001),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
});

export type AppConfig = z.infer<typeof configSchema>;
