// A wait that ends after `ms`, when `signal` aborts, or when `settle` is called, whichever comes first, and
// leaves no listener behind on the signal (a run's long-lived signal sees thousands of waits).
export function settleable(ms: number, signal?: AbortSignal): { done: Promise<void>; settle: () => void } {
  let settle!: () => void;
  const done = new Promise<void>((resolve) => {
    const end = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', end);
      resolve();
    };
    const timer = setTimeout(end, ms);
    settle = end;
    if (signal?.aborted) end();
    else signal?.addEventListener('abort', end, { once: true });
  });
  return { done, settle };
}
