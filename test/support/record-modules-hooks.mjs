// Loader hooks of record-modules.mjs (they run on a thread of their own).
import { appendFileSync } from 'node:fs';

export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(process.env.RECORD_MODULES_TO, `${resolved.url}\n`);
  return resolved;
}
