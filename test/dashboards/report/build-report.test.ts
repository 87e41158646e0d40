import { describe, expect, it } from 'vitest';
import { buildReport, peopleCountOf, suppress } from '../../../dashboards/report/build-report.ts';
import { reportDataSchema } from '../../../dashboards/report/report-data.schema.ts';
import { PlatformError } from '../../../devices/contract/errors.ts';
import { BETA, INDICATOR_FILE, MUNICIPALITY, NOW, OCT, TORGS, fixtureSources } from './report-fixture.ts';

const opts = { month: '2026-10', torgs: TORGS, municipality: MUNICIPALITY, minCount: 5, now: () => NOW };

describe('buildReport on a hand-made October 2026', () => {
  it('asks each source for the month, recommendations as of the month end, dead letters over the month', async () => {
    const sources = fixtureSources();
    const r = await buildReport(sources, opts);
    expect(sources.calls.sort()).toEqual(
      [
        'metrics 2026-10',
        'indicators 2026-10',
        // 2026-11-01 00:00 Oslo (UTC+1) = 2026-10-31T23:00Z, before `now`.
        `recommendations ${Date.UTC(2026, 9, 31, 23)}`,
        'bookings 2026-10',
        `deadLetters ${Date.UTC(2026, 8, 30, 22)} ${Date.UTC(2026, 9, 31, 23)}`,
      ].sort(),
    );
    expect(r.month).toBe('2026-10');
    expect(r.previousMonth).toBe('2026-09');
    expect(r.startMs).toBe(OCT.startMs);
    expect(r.endMs).toBe(OCT.endMs);
    expect(r.generatedAt).toBe(NOW);
    expect(r.definitionVersions).toEqual({ indicators: 'test-3', recommendations: 'skalering-7' });
    expect(() => reportDataSchema.parse(r)).not.toThrow();
  });

  it('a month before `now` ends: recommendations are asked as of now', async () => {
    const sources = fixtureSources();
    const now = Date.UTC(2026, 9, 20, 12);
    await buildReport(sources, { ...opts, now: () => now });
    expect(sources.calls).toContain(`recommendations ${now}`);
  });

  it('visits and their trend against the previous month, municipality and per torg', async () => {
    const r = await buildReport(fixtureSources(), opts);
    // 1204 vs 1005: +199, 199 / 1005.
    expect(r.summary.visits).toEqual({ value: 1204, suppressed: false });
    expect(r.summary.visitsTrend.previous).toEqual({ value: 1005, suppressed: false });
    expect(r.summary.visitsTrend.absolute).toBe(199);
    expect(r.summary.visitsTrend.relative).toBeCloseTo(0.19800995, 7);
    const alfa = r.torgs.find((t) => t.id === 'alfa')!;
    expect(alfa.visits.value).toBe(1200);
    expect(alfa.visitsTrend).toEqual({ previous: { value: 1000, suppressed: false }, absolute: 200, relative: 0.2 });
    expect(alfa.visitsBySplit).toEqual({ staffed: { value: 900, suppressed: false }, meraapent: { value: 300, suppressed: false }, closed: { value: 50, suppressed: false } });
    // 300 of 1200 visits in open time were in meråpent time.
    expect(alfa.meraapent.shareOfVisits).toBe(0.25);
    expect(alfa.meraapent.timeUsedShare).toBe(0.4);
    expect(alfa.avgOccupancy).toBe(6.25);
    expect(alfa.climate.co2Compliance).toBe(0.955);
    expect(alfa.completeness).toBe(0.776);
    expect(alfa.lowCompleteness).toBe(true);
  });

  it('suppresses counts of people below minCount and shows a count of exactly minCount', async () => {
    const r = await buildReport(fixtureSources(), opts);
    const beta = r.torgs.find((t) => t.id === 'beta')!;
    // 4 visits in October: suppressed; 5 in September: shown; no trend against a suppressed month.
    expect(beta.visits).toEqual({ value: null, suppressed: true });
    expect(beta.visitsTrend).toEqual({ previous: { value: 5, suppressed: false }, absolute: null, relative: null });
    expect(beta.peakOccupancy).toEqual({ value: null, suppressed: true });
    expect(beta.meraapent.visits).toEqual({ value: null, suppressed: true });
    expect(beta.meraapent.shareOfVisits).toBeNull();
    // No staffed row for beta: no data, which is not a suppression.
    expect(beta.visitsBySplit.staffed).toEqual({ value: null, suppressed: false });
    // Module peaks: 12 shown, 3 suppressed, exactly 5 shown.
    const alfa = r.torgs.find((t) => t.id === 'alfa')!;
    expect(alfa.modules.map((m) => [m.module, m.peakOccupancy])).toEqual([
      ['innbyggerservice', { value: 12, suppressed: false }],
      ['møterom', { value: null, suppressed: true }],
    ]);
    expect(beta.modules[0]!.peakOccupancy).toEqual({ value: 5, suppressed: false });
    // Every day of October in order, no September day; 3 on 2 October is suppressed, days without a row have no data.
    expect(alfa.dailyVisits).toHaveLength(31);
    expect(alfa.dailyVisits[0]).toEqual({ date: '2026-10-01', visits: { value: 40, suppressed: false } });
    expect(alfa.dailyVisits[1]).toEqual({ date: '2026-10-02', visits: { value: null, suppressed: true } });
    expect(alfa.dailyVisits[2]).toEqual({ date: '2026-10-03', visits: { value: null, suppressed: false } });
    // The 25-hour fall-back day keeps its row.
    expect(alfa.dailyVisits[24]).toEqual({ date: '2026-10-25', visits: { value: 60, suppressed: false } });
    expect(alfa.dailyVisits[30]!.date).toBe('2026-10-31');
    expect(alfa.dailyVisits.filter((d) => d.visits.value !== null)).toHaveLength(2);
    // With minCount 4, beta's 4 visits are shown and its trend is 4 − 5.
    const r4 = await buildReport(fixtureSources(), { ...opts, minCount: 4 });
    const beta4 = r4.torgs.find((t) => t.id === 'beta')!;
    expect(beta4.visits).toEqual({ value: 4, suppressed: false });
    expect(beta4.visitsTrend.absolute).toBe(-1);
    expect(beta4.visitsTrend.relative).toBeCloseTo(-0.2, 10);
  });

  it('suppresses indicator values that are, or reveal, a small count of people', async () => {
    const r = await buildReport(fixtureSources(), opts);
    const ind = (id: string, scope: string) => r.indicators.find((i) => i.indicator === id && i.scopeId === scope)!;
    // 60 per 1000 of 20 000 residents = 1200 people: shown.
    expect(ind('besok-per-1000', 'alfa')).toMatchObject({ value: 60, suppressed: false, trendVsPreviousMonth: 10, scopeName: 'Alfa innbyggertorg' });
    // 4 per 1000 of 1000 residents = 4 people: suppressed.
    expect(ind('besok-per-1000', 'beta')).toMatchObject({ value: null, suppressed: true, trendVsPreviousMonth: null });
    // Attendance of exactly 5 shown; its trend against a month of 3 is not.
    expect(ind('lokaldemokrati-oppmote', 'alfa')).toMatchObject({ value: 5, suppressed: false, trendVsPreviousMonth: null });
    // A share is not a count.
    expect(ind('inneklima-co2', 'alfa')).toMatchObject({ value: 0.8, suppressed: false, trendVsPreviousMonth: 0.1 });
    expect(r.summary.indicatorStatus).toEqual({ 'on-track': 1, 'at-risk': 2, 'off-track': 1, unknown: 1 });
  });

  it('peopleCountOf: value, per-resident ratio, and non-counts', () => {
    const [per1000, attendance, co2] = INDICATOR_FILE.indicators;
    expect(peopleCountOf(per1000!, 2.5, 2000)).toBe(5);
    expect(peopleCountOf(attendance!, 7, 123)).toBe(7);
    expect(peopleCountOf(co2!, 0.5, 1000)).toBeNull();
    expect(peopleCountOf(per1000!, null, 1000)).toBeNull();
    expect(suppress(0, 5)).toEqual({ value: null, suppressed: true });
    expect(suppress(5, 5)).toEqual({ value: 5, suppressed: false });
    expect(suppress(null, 5)).toEqual({ value: null, suppressed: false });
  });

  it('utilisation by module from the module rows of split all, with the capacity of its zones', async () => {
    const r = await buildReport(fixtureSources(), opts);
    const alfa = r.torgs.find((t) => t.id === 'alfa')!;
    expect(alfa.modules.map((m) => ({ module: m.module, capacity: m.capacity, utilisation: m.utilisation, timeUsed: m.timeUsedShare }))).toEqual([
      { module: 'innbyggerservice', capacity: 10, utilisation: 0.42, timeUsed: 0.8 },
      // 8 + 6 seats; the staffed row (0.99) is not read.
      { module: 'møterom', capacity: 14, utilisation: 0.31, timeUsed: 0.5 },
    ]);
  });

  it('ghost bookings summed over the torg’s bookable zones', async () => {
    const r = await buildReport(fixtureSources(), opts);
    const g = r.torgs.find((t) => t.id === 'alfa')!.ghostBookings!;
    // 10 + 4 slots, 2 + 1 ghosts, 2 unknown, 6 + 3 used: 3 ghosts of 12 slots used or ghost.
    expect(g).toEqual({
      bookableZones: 2,
      slots: 14,
      ghosts: 3,
      unknown: 2,
      ghostShare: 0.25,
      bookedHours: 26,
      ghostHours: 4,
      unbookedUseHours: 2,
      // 3 + 4 people in the slots that had a head count.
      attendance: { value: 7, suppressed: false },
      lowCompleteness: true,
    });
    expect(r.torgs.find((t) => t.id === 'beta')!.ghostBookings).toMatchObject({ bookableZones: 0, slots: 0, ghostShare: null, attendance: { value: null, suppressed: false } });
    const none = await buildReport(fixtureSources({ bookings: async () => null }), opts);
    expect(none.torgs.every((t) => t.ghostBookings === null)).toBe(true);
  });

  it('open hours and uptime over the fall-back month (745 hours)', async () => {
    const r = await buildReport(fixtureSources(), opts);
    const alfa = r.torgs.find((t) => t.id === 'alfa')!;
    const beta = r.torgs.find((t) => t.id === 'beta')!;
    // 31 days × 24 h + the repeated hour of 25 October.
    expect(alfa.openHours).toEqual({ month: 745, staffed: 132, meraapent: 93 });
    expect(beta.openHours).toEqual({ month: 745, staffed: 0, meraapent: 745 });
    const q = (id: string) => r.dataQuality.torgs.find((t) => t.torg === id)!;
    // alfa: 132 + 93 open hours, 0.776 of them reported = 174.6 hours.
    expect(q('alfa').openHours).toBe(225);
    expect(q('alfa').reportingHours).toBeCloseTo(174.6, 9);
    expect(q('alfa').uptime).toBe(0.776);
    expect(q('alfa').lowCompleteness).toBe(true);
    // beta: half of 745 meråpent hours.
    expect(q('beta').openHours).toBe(745);
    expect(q('beta').reportingHours).toBeCloseTo(372.5, 9);
    expect(q('beta').uptime).toBeCloseTo(0.5, 9);
  });

  it('a March month has 743 hours; a month without DST change 720 or 744', async () => {
    const month = async (m: string) => (await buildReport(fixtureSources(), { ...opts, month: m })).torgs.find((t) => t.id === 'beta')!.openHours;
    expect(await month('2026-03')).toEqual({ month: 743, staffed: 0, meraapent: 743 });
    expect(await month('2026-09')).toEqual({ month: 720, staffed: 0, meraapent: 720 });
  });

  it('data quality: drift corrections and dead letters per torg and per code', async () => {
    const r = await buildReport(fixtureSources(), opts);
    const q = r.dataQuality;
    expect(q.torgs.map((t) => [t.torg, t.drift, t.deadLetters])).toEqual([
      ['alfa', { belowZero: 7, closingReset: 12 }, 5],
      ['beta', { belowZero: 0, closingReset: 1 }, 1],
    ]);
    expect(q.deadLetters).toEqual({
      total: 10,
      byCode: [
        { code: 'E_PAYLOAD_NOT_JSON', count: 4 },
        { code: 'E_READING_INVALID', count: 4 },
        { code: 'E_DEVICE_UNKNOWN', count: 2 },
      ],
      unattributed: 4,
    });
    expect(q.computedDays).toEqual(['2026-10-31']);
  });

  it('main recommendations: changes only, most weeks met first', async () => {
    const r = await buildReport(fixtureSources(), opts);
    expect(r.summary.mainRecommendations.map((x) => [x.torgName, x.kind, x.weeksMet])).toEqual([
      ['Beta torg', 'extend-meraapent-later', 4],
      ['Alfa innbyggertorg', 'scale-up', 3],
    ]);
    expect(r.recommendations.items).toHaveLength(3);
    expect(r.recommendations.weeks).toEqual(['2026-W41', '2026-W42', '2026-W43', '2026-W44']);
  });

  it('without indicators and recommendations the report still builds, and says so', async () => {
    const r = await buildReport(fixtureSources({ indicators: async () => null, recommendations: async () => null }), { ...opts, torgs: [BETA] });
    expect(r.indicators).toEqual([]);
    expect(r.definitionVersions).toEqual({ indicators: null, recommendations: null });
    expect(r.summary.indicatorStatus).toEqual({ 'on-track': 0, 'at-risk': 0, 'off-track': 0, unknown: 0 });
    expect(r.torgs.map((t) => t.id)).toEqual(['beta']);
  });

  it('refuses a malformed month or minCount', async () => {
    await expect(buildReport(fixtureSources(), { ...opts, month: '2026-13' })).rejects.toBeInstanceOf(PlatformError);
    await expect(buildReport(fixtureSources(), { ...opts, minCount: 0 })).rejects.toMatchObject({ code: 'E_CONFIG_INVALID', retriable: false });
  });
});
