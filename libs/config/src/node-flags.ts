// The worker's V8 heap limit, given wherever the worker is started (scripts/start.ts, docker-compose.yml, the
// bench). Its live heap during a long drain is about 60 MB, but an unlimited V8 heap grows to about 270 MB, mostly
// garbage, before collecting: a 100k-event drain peaked at 412 MB RSS. With this limit V8 collects sooner: 221 MB,
// the drain as fast. The worker holds at most one bounded pass of payloads and a bounded cache of splits at a time.
export const WORKER_NODE_FLAGS = ['--max-old-space-size=160'] as const;
