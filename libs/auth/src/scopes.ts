export enum Scope {
  EventsWrite = 'events:write', // POST /v1/events
  PayoutsRead = 'payouts:read', // every GET status route
  PayoutsWrite = 'payouts:write', // run payouts, un-park recipients, resolve unknown keysends
  Admin = 'admin', // operators: reads and actions see every app's data, not only the key's own app
}

export const ALL_SCOPES = Object.values(Scope);
export const isScope = (value: string): value is Scope => (ALL_SCOPES as string[]).includes(value);
