// One page of a newest-first list read with `LIMIT limit + 1`: the extra row only tells that another page follows,
// so nextBefore is null on the last page even when that page is exactly full.
export function pageOf<T extends { id: bigint }>(rows: T[], limit: number): { rows: T[]; nextBefore: string | null } {
  const page = rows.slice(0, limit);
  return { rows: page, nextBefore: rows.length > limit ? String(page.at(-1)!.id) : null };
}
