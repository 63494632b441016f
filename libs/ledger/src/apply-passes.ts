// Stored payload bytes one pass of an apply transaction holds in memory. The bench's events are under 1 kB, so a
// batch of 2,000 is one pass; a batch of the largest value blocks the limits allow is split and written in several
// passes of the same transaction, so the worker's heap stays bounded (its start sets a heap limit).
export const PAYLOAD_BYTES_PER_PASS = 4 * 1024 * 1024;

// Consecutive groups of events, each within the byte budget (an event larger than the budget is a pass of its own).
export function passesOf<T extends { bytes: number }>(events: T[], budget = PAYLOAD_BYTES_PER_PASS): T[][] {
  const passes: T[][] = [];
  let bytes = budget;
  for (const event of events) {
    if (bytes + event.bytes > budget) {
      passes.push([]);
      bytes = 0;
    }
    passes.at(-1)!.push(event);
    bytes += event.bytes;
  }
  return passes;
}
