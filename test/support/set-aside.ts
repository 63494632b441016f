import { WorkerSchedule } from '../../apps/worker/src/worker-schedule.service.js';
import { query } from './database.js';
import { eventually } from './http.js';
import type { Stack } from './stack.js';

// An event of `app` stored as events accepted before ingestion checked them could be (a value block without
// recipients: it cannot be split), received `ageSeconds` ago, then swept by the worker, which sets it aside.
export async function storeSetAsideEvent(stack: Stack, app: string, id: string, feedGuid = 'feed-aside', ageSeconds = 3600): Promise<void> {
  const payload = {
    id,
    feedGuid,
    itemGuid: `item-${id}`,
    position: 0,
    seconds: 60,
    satsPerMinute: 100,
    value: { type: 'lightning', method: 'keysend', recipients: [], timeSplits: [] },
  };
  await query(
    stack.config.DATABASE_URL,
    `INSERT INTO listening_event (app_id, event_id, payload, amount_msat, received_at) VALUES ($1, $2, $3, 100000, now() - make_interval(secs => $4))`,
    [app, id, payload, ageSeconds],
  );
  await stack.worker!.get(WorkerSchedule).sweep(0);
  await eventually(
    () =>
      query<{ apply_error: string | null }>(stack.config.DATABASE_URL, 'SELECT apply_error FROM listening_event WHERE app_id = $1 AND event_id = $2', [
        app,
        id,
      ]),
    ([row]) => row?.apply_error != null,
    15_000,
  );
}
