// Database ids in route parameters: bigint-sized decimal numbers; anything else cannot name a row.
export const DATABASE_ID = /^[1-9][0-9]{0,18}$/;
