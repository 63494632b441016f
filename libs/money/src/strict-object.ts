import { z } from 'zod';

// Edit distance between two short field names (bounded: field names are compared only when both are short).
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

const MAX_COMPARED_LENGTH = 64;
// Unknown fields of one object reported one by one (with a suggestion each); the rest are counted in one issue,
// so a body of many junk keys costs little to answer.
const MAX_REPORTED_UNKNOWN = 10;

// Edit distances computed for suggestions while a budget is set (withSuggestionBudget): one request's worth.
let suggestionsLeft = Infinity;

// Runs a synchronous parse with at most `max` edit-distance suggestions, so a request of many objects full of
// unknown fields costs a bounded amount of CPU; fields past the budget are reported without a suggestion.
export function withSuggestionBudget<T>(max: number, parse: () => T): T {
  const saved = suggestionsLeft;
  suggestionsLeft = max;
  try {
    return parse();
  } finally {
    suggestionsLeft = saved;
  }
}

// The known field an unknown one was probably meant to be: the same but for case, or at most two edits away
// (so only names within two characters of a known one's length are compared).
function closestField(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  const sameButCase = known.find((k) => k.toLowerCase() === lower);
  if (sameButCase || name.length < 4 || name.length > MAX_COMPARED_LENGTH || suggestionsLeft <= 0) return sameButCase;
  suggestionsLeft--;
  let best: { field: string; edits: number } | undefined;
  for (const field of known) {
    if (Math.abs(field.length - name.length) > 2) continue;
    const edits = distance(lower, field.toLowerCase());
    if (edits <= 2 && (!best || edits < best.edits)) best = { field, edits };
  }
  return best?.field;
}

const unknownFieldMessage = (name: string, known: readonly string[]): string => {
  const suggestion = closestField(name, known);
  return suggestion ? `unknown field; did you mean ${suggestion}?` : 'unknown field';
};

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

// An object that refuses unknown fields, each reported on its own path ("listenerID: unknown field; did you mean
// listenerId?"), also when other fields are invalid: a misspelt field must never be silently ignored. The
// OpenAPI document shows it as closed (additionalProperties: false). Only known fields ever reach the output.
export function strictObject<T extends z.ZodRawShape>(shape: T, params?: { error: string }): z.ZodObject<T> {
  const known = Object.keys(shape);
  return z
    .looseObject(shape, params)
    .superRefine(
      (value, ctx) => {
        if (!isRecord(value)) return;
        const unknown = Object.keys(value).filter((name) => !Object.hasOwn(shape, name));
        for (const name of unknown.slice(0, MAX_REPORTED_UNKNOWN)) ctx.addIssue({ code: 'custom', path: [name], message: unknownFieldMessage(name, known) });
        if (unknown.length > MAX_REPORTED_UNKNOWN) {
          ctx.addIssue({ code: 'custom', path: [], message: `${unknown.length - MAX_REPORTED_UNKNOWN} more unknown fields; known: ${known.join(', ')}` });
        }
      },
      { when: () => true },
    )
    .meta({ additionalProperties: false }) as unknown as z.ZodObject<T>;
}
