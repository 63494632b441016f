import { ErrorCode } from '@splitstream/errors';
import { capBreachOf, capBreachRejection, capPeriods } from './spend-caps.js';

const now = new Date('2026-12-02T22:00:00.000Z');

describe('capPeriods', () => {
  it('names the UTC day, month and listener-day counters with their caps', () => {
    expect(capPeriods({ dayCapMsat: 5n, monthCapMsat: 50n, listenerDayCapMsat: null }, now)).toEqual({
      day: 'day:2026-12-02',
      dayCapMsat: 5n,
      month: 'month:2026-12',
      monthCapMsat: 50n,
      listenerPrefix: 'listener-day:2026-12-02:',
      listenerDayCapMsat: null,
    });
  });
});

describe('capBreachRejection', () => {
  it.each([
    ['day:2026-12-02', ErrorCode.AppDayCapExceeded, "the app's daily cap"],
    ['month:2026-12', ErrorCode.AppMonthCapExceeded, "the app's monthly cap"],
    ['listener-day:2026-12-02:alice', ErrorCode.ListenerDayCapExceeded, 'listener "alice"\'s daily cap'],
  ])('names the cap %s breaks with its code and the amounts', (period, code, what) => {
    expect(capBreachRejection({ period, total: 120n, charged: 30n, cap: 100n }, now)).toEqual({
      code,
      message: `30 msat would take ${what} of 100 msat to 120 msat (90 msat used)`,
    });
  });
});

describe('capBreachOf', () => {
  it("finds splitstream_check_spend's SQLSTATE and message however deep the driver's error is wrapped", () => {
    const driver = { code: 'SSCAP', message: 'SSCAP listener-day:2026-12-02:a:b 120 30 100' };
    expect(capBreachOf({ name: 'PrismaClientKnownRequestError', meta: { driverAdapterError: { cause: driver } } })).toEqual({
      period: 'listener-day:2026-12-02:a:b',
      total: 120n,
      charged: 30n,
      cap: 100n,
    });
  });

  it('is undefined for any other error', () => {
    expect(capBreachOf(new Error('connection terminated'))).toBeUndefined();
    expect(capBreachOf({ code: '23505', message: 'duplicate key' })).toBeUndefined();
  });
});
