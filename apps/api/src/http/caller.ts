// The sending app, for event idempotency. Until API keys exist every caller is this one app.
export const DEFAULT_APP_ID = 'default';
