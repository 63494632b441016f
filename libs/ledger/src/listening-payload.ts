import type { ValueBlock } from '@splitstream/money';

// What the ledger reads back from a stored event (listening_event.payload). libs/ingestion validates events and
// stores them whole; it checks at compile time that what it stores satisfies this, so the two cannot drift
// without the ledger depending on ingestion.
export interface ListeningPayload {
  feedGuid: string;
  itemGuid: string;
  feedTitle?: string;
  itemTitle?: string;
  feedUrl?: string;
  feedId?: number;
  itemId?: number;
  senderName?: string;
  appName?: string;
  appVersion?: string;
  position: number;
  seconds: number;
  // Absent when the app sent a reference (feedUrl, or the GUIDs only): the worker finds the block (libs/feeds).
  value?: ValueBlock;
}
