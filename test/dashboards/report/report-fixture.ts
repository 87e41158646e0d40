/**
 * A small hand-made month for the report tests: two torg in October 2026 (the fall-back month:
 * 31 days, 745 hours), metric rows, indicator values, recommendations, bookings and dead letters
 * whose report figures are worked out by hand in the tests. Period bounds are written as UTC
 * instants, not computed: Oslo is UTC+2 until 2026-10-25 03:00 and UTC+1 after.
 */
import type { BookingAnalysisResult, SlotAnalysis, ZoneBookingAnalysis } from '../../../dashboards/bookings/bookings.schema.ts';
import { parseIndicatorFile, type IndicatorFile } from '../../../dashboards/indicators/indicator-definition.schema.ts';
import type { IndicatorResult, IndicatorValue } from '../../../dashboards/indicators/indicator-engine.ts';
import { metricRowSchema, type MetricRow } from '../../../dashboards/metrics/metric-row.schema.ts';
import type { DeadLetterCount, ReportSources } from '../../../dashboards/report/build-report.ts';
import type { Recommendation, RecommendationResult } from '../../../dashboards/skalering/recommend.ts';
import { torgSchema, type Torg } from '../../../devices/torg/torg-config.schema.ts';

export const MUNICIPALITY = 'Testkommune';
export const OCT = { startMs: Date.UTC(2026, 8, 30, 22), endMs: Date.UTC(2026, 9, 31, 23) };
export const SEP = { startMs: Date.UTC(2026, 7, 31, 22), endMs: Date.UTC(2026, 8, 30, 22) };
/** 2026-11-24 09:00 Oslo: after October, so recommendations are asked as of October's end. */
export const NOW = Date.UTC(2026, 10, 24, 8);

const days = (h: { staffed?: [string, string][]; meraapent?: [string, string][] }) => ({ staffed: h.staffed ?? [], meraapent: h.meraapent ?? [] });
const weekday = days({ staffed: [['10:00', '16:00']], meraapent: [['07:00', '10:00']] });
const weekend = days({ meraapent: [['07:00', '10:00']] });

/** Staffed 10–16 on weekdays, meråpent 07–10 every day; no holidays. October 2026: 22 weekdays → 132 h staffed, 31 × 3 = 93 h meråpent. */
export const ALFA: Torg = torgSchema.parse({
  id: 'alfa',
  name: 'Alfa innbyggertorg',
  population: 20000,
  holidays: 'none',
  openingHours: { mon: weekday, tue: weekday, wed: weekday, thu: weekday, fri: weekday, sat: weekend, sun: weekend },
  entrances: [{ id: 'hoved', name: 'Hovedinngang' }],
  zones: [
    { id: 'skranke', name: 'Skranke', module: 'innbyggerservice', capacity: 10, fireMax: 20 },
    { id: 'rom-1', name: 'Rom 1', module: 'møterom', capacity: 8, fireMax: 10, bookable: true },
    { id: 'rom-2', name: 'Rom 2', module: 'møterom', capacity: 6, fireMax: 8, bookable: true },
  ],
  capacity: 100,
});

const allDay = days({ meraapent: [['00:00', '24:00']] });
/** Meråpent round the clock: October 2026 has 745 meråpent hours (the 25-hour 25 October). */
export const BETA: Torg = torgSchema.parse({
  id: 'beta',
  name: 'Beta torg',
  population: 1000,
  holidays: 'none',
  openingHours: { mon: allDay, tue: allDay, wed: allDay, thu: allDay, fri: allDay, sat: allDay, sun: allDay },
  entrances: [{ id: 'dor', name: 'Dør' }],
  zones: [{ id: 'plasser', name: 'Plasser', module: 'arbeidsplasser', capacity: 20, fireMax: 25 }],
  capacity: 25,
});
export const TORGS = [ALFA, BETA] as const;

type RowInput = Partial<MetricRow> & Pick<MetricRow, 'scope' | 'scopeId' | 'split'>;
export function row(r: RowInput, period: { startMs: number; endMs: number } = OCT, kind: MetricRow['period'] = 'month', label = '2026-10'): MetricRow {
  return metricRowSchema.parse({
    torg: r.scope === 'municipality' ? null : r.scopeId.split('/')[0],
    period: kind,
    start: period.startMs,
    end: period.endMs,
    label,
    visits: null,
    avgOccupancy: null,
    peakOccupancy: null,
    utilisation: null,
    timeUsedShare: null,
    dwell: { count: 0, meanMinutes: null, p50Minutes: null, maxMinutes: null },
    timeAtTarget: { under60: null, from60to100: null, over100: null },
    climate: { co2Compliance: null, temperatureCompliance: null, humidityCompliance: null },
    drift: null,
    completeness: null,
    lowCompleteness: false,
    ...r,
  });
}

/**
 * Split `all` is all open time (staffed + meråpent): alfa's 1200 = 900 + 300, and its completeness
 * 0.776 = (0.9 × 132 h + 0.6 × 93 h) ÷ 225 h. Closed-time visits (50) are apart.
 */
export const ROWS: MetricRow[] = [
  row({ scope: 'torg', scopeId: 'alfa', split: 'all', visits: 1200, avgOccupancy: 6.25, peakOccupancy: 31, utilisation: 0.3125, completeness: 0.776, lowCompleteness: true, drift: { belowZero: 7, closingReset: 12 }, climate: { co2Compliance: 0.955, temperatureCompliance: 0.9, humidityCompliance: null } }),
  row({ scope: 'torg', scopeId: 'alfa', split: 'staffed', visits: 900, completeness: 0.9 }),
  row({ scope: 'torg', scopeId: 'alfa', split: 'meraapent', visits: 300, timeUsedShare: 0.4, completeness: 0.6 }),
  row({ scope: 'torg', scopeId: 'alfa', split: 'closed', visits: 50, completeness: 0.5 }),
  row({ scope: 'torg', scopeId: 'alfa', split: 'all', visits: 1000, completeness: 0.95 }, SEP, 'month', '2026-09'),
  row({ scope: 'module', scopeId: 'alfa/innbyggerservice', split: 'all', utilisation: 0.42, timeUsedShare: 0.8, peakOccupancy: 12, completeness: 0.9 }),
  row({ scope: 'module', scopeId: 'alfa/møterom', split: 'all', utilisation: 0.31, timeUsedShare: 0.5, peakOccupancy: 3, completeness: 0.85 }),
  // Another split of a module: not what the report reads.
  row({ scope: 'module', scopeId: 'alfa/møterom', split: 'staffed', utilisation: 0.99, peakOccupancy: 99, completeness: 1 }),
  row({ scope: 'zone', scopeId: 'rom-1', split: 'all', visits: null, peakOccupancy: 2 }),
  row({ scope: 'torg', scopeId: 'beta', split: 'all', visits: 4, avgOccupancy: 0.5, peakOccupancy: 4, utilisation: 0.025, completeness: 0.5, lowCompleteness: true, drift: { belowZero: 0, closingReset: 1 } }),
  row({ scope: 'torg', scopeId: 'beta', split: 'meraapent', visits: 4, timeUsedShare: 0.1, completeness: 0.5 }),
  row({ scope: 'torg', scopeId: 'beta', split: 'all', visits: 5, completeness: 0.5 }, SEP, 'month', '2026-09'),
  row({ scope: 'module', scopeId: 'beta/arbeidsplasser', split: 'all', utilisation: 0.05, timeUsedShare: 0.2, peakOccupancy: 5, completeness: 0.5 }),
  row({ scope: 'municipality', scopeId: MUNICIPALITY, split: 'all', visits: 1204, completeness: 0.6, lowCompleteness: true }),
  row({ scope: 'municipality', scopeId: MUNICIPALITY, split: 'all', visits: 1005, completeness: 0.9 }, SEP, 'month', '2026-09'),
  // Day rows: 1 and 2 October, the 25-hour 25 October, and a September day that is not October's.
  row({ scope: 'torg', scopeId: 'alfa', split: 'all', visits: 40 }, { startMs: Date.UTC(2026, 8, 30, 22), endMs: Date.UTC(2026, 9, 1, 22) }, 'day', '2026-10-01'),
  row({ scope: 'torg', scopeId: 'alfa', split: 'all', visits: 3 }, { startMs: Date.UTC(2026, 9, 1, 22), endMs: Date.UTC(2026, 9, 2, 22) }, 'day', '2026-10-02'),
  row({ scope: 'torg', scopeId: 'alfa', split: 'all', visits: 60 }, { startMs: Date.UTC(2026, 9, 24, 22), endMs: Date.UTC(2026, 9, 25, 23) }, 'day', '2026-10-25'),
  row({ scope: 'torg', scopeId: 'alfa', split: 'all', visits: 77 }, { startMs: Date.UTC(2026, 8, 29, 22), endMs: Date.UTC(2026, 8, 30, 22) }, 'day', '2026-09-30'),
];

export const INDICATOR_FILE: IndicatorFile = parseIndicatorFile({
  version: 'test-3',
  indicators: [
    {
      id: 'besok-per-1000',
      effectGoal: 1,
      name: { nb: 'Besøk per 1000 innbyggere', en: 'Visits per 1000 residents' },
      per: 'torg',
      formula: { kind: 'ratio', numerator: { kind: 'metric', ref: { metric: 'visits', scope: 'torg' } }, denominator: { kind: 'population', per: 1000 } },
      unit: { nb: 'besøk per 1000 innbyggere', en: 'visits per 1000 residents' },
      baseline: { value: 40, month: '2026-01' },
      target: { value: 80, month: '2027-12' },
      direction: 'higher-is-better',
      owner: 'test',
    },
    {
      id: 'lokaldemokrati-oppmote',
      effectGoal: 2,
      name: { nb: 'Oppmøte lokaldemokrati', en: 'Local democracy attendance' },
      per: 'torg',
      formula: { kind: 'value', of: { kind: 'booking', ref: { field: 'attendance', categories: ['lokaldemokrati'] } } },
      unit: { nb: 'personer per måned', en: 'people per month' },
      baseline: { value: 0, month: '2026-01' },
      target: { value: 40, month: '2027-12' },
      direction: 'higher-is-better',
      owner: 'test',
    },
    {
      id: 'inneklima-co2',
      effectGoal: 4,
      name: { nb: 'CO₂ innenfor norm', en: 'CO₂ within norm' },
      per: 'torg',
      formula: { kind: 'value', of: { kind: 'metric', ref: { metric: 'co2Compliance', scope: 'torg' } } },
      unit: { nb: 'andel', en: 'share' },
      baseline: { value: 0.7, month: '2026-01' },
      target: { value: 0.95, month: '2027-12' },
      direction: 'higher-is-better',
      owner: 'test',
    },
  ],
});

function value(v: Partial<IndicatorValue> & Pick<IndicatorValue, 'indicator' | 'scopeId' | 'value' | 'status'>): IndicatorValue {
  const def = INDICATOR_FILE.indicators.find((d) => d.id === v.indicator)!;
  return {
    definitionVersion: INDICATOR_FILE.version,
    effectGoal: def.effectGoal,
    name: def.name,
    unit: def.unit,
    month: '2026-10',
    start: OCT.startMs,
    torg: v.scopeId,
    previousMonthValue: null,
    trendVsPreviousMonth: null,
    trendVsBaseline: null,
    expected: 50,
    completeness: 1,
    lowCompleteness: false,
    missing: [],
    ...v,
  };
}

export const INDICATORS: IndicatorResult = {
  month: '2026-10',
  definitionVersion: 'test-3',
  statusRule: 'status rule text',
  values: [
    // 1200 visits ÷ 20 (thousands of residents) = 60; the count behind it is 1200.
    value({ indicator: 'besok-per-1000', scopeId: 'alfa', value: 60, previousMonthValue: 50, trendVsPreviousMonth: 10, status: 'on-track' }),
    // 4 visits ÷ 1 = 4: a count of 4 people, suppressed.
    value({ indicator: 'besok-per-1000', scopeId: 'beta', value: 4, previousMonthValue: 5, trendVsPreviousMonth: -1, status: 'off-track' }),
    // Exactly 5 people: shown; the previous month's 3 is suppressed, so is the trend against it.
    value({ indicator: 'lokaldemokrati-oppmote', scopeId: 'alfa', value: 5, previousMonthValue: 3, trendVsPreviousMonth: 2, status: 'at-risk' }),
    value({ indicator: 'inneklima-co2', scopeId: 'alfa', value: 0.8, previousMonthValue: 0.7, trendVsPreviousMonth: 0.1, status: 'at-risk', missing: [] }),
    value({ indicator: 'inneklima-co2', scopeId: 'beta', value: null, status: 'unknown', missing: ['climate'] }),
  ],
};

function rec(r: Partial<Recommendation> & Pick<Recommendation, 'torg' | 'module' | 'kind' | 'weeksMet'>): Recommendation {
  return {
    message: { nb: `Melding ${r.kind}`, en: `Message ${r.kind}` },
    thresholds: { utilisation: 0.7 },
    weeksWithData: 4,
    minWeeks: 3,
    windowWeeks: 4,
    evidence: [
      { week: '2026-W41', values: { utilisation: 0.75, peak: 8 }, met: true, lowCompleteness: false },
      { week: '2026-W42', values: { utilisation: null, peak: null }, met: false, lowCompleteness: true },
    ],
    ...r,
  };
}

export const RECOMMENDATIONS: RecommendationResult = {
  rulesVersion: 'skalering-7',
  weeks: ['2026-W41', '2026-W42', '2026-W43', '2026-W44'],
  recommendations: [
    rec({ torg: 'alfa', module: 'innbyggerservice', kind: 'hold', weeksMet: 0 }),
    rec({ torg: 'alfa', module: 'møterom', kind: 'scale-up', weeksMet: 3 }),
    rec({ torg: 'beta', module: null, kind: 'extend-meraapent-later', weeksMet: 4 }),
  ],
};

function slot(uid: string, attendance: number | null, status: SlotAnalysis['status'] = 'used'): SlotAnalysis {
  return {
    uid,
    summary: uid,
    startMs: OCT.startMs,
    endMs: OCT.startMs + 3_600_000,
    bookingCategories: [],
    status,
    unknownReason: status === 'unknown' ? 'not-reported' : null,
    coverage: 1,
    occupiedHours: 1,
    bookedOpenHours: 1,
    attendance,
    attendanceUnknownReason: attendance === null ? 'no-headcount' : null,
  };
}

function zone(z: Partial<ZoneBookingAnalysis> & Pick<ZoneBookingAnalysis, 'torg' | 'zone'>): ZoneBookingAnalysis {
  return {
    slots: 0,
    bookedHours: 0,
    bookedHoursClosed: 0,
    ghost: { count: 0, share: null, hours: 0 },
    used: 0,
    unknown: 0,
    unbookedUseHours: 0,
    unbookedUseHoursClosed: 0,
    bookingToOccupancyRatio: null,
    bookedTimeOccupiedShare: null,
    categories: [],
    completeness: 1,
    lowCompleteness: false,
    slotDetails: [],
    ...z,
  };
}

export const BOOKINGS: BookingAnalysisResult = {
  fromMs: OCT.startMs,
  toMs: OCT.endMs,
  rules: { ghost: 'ghost rule text', bookedHours: '', unbookedUse: '', ratio: '', presence: '', attendance: '' },
  zones: [
    zone({
      torg: 'alfa',
      zone: 'rom-1',
      slots: 10,
      ghost: { count: 2, share: 0.25, hours: 3 },
      unknown: 2,
      used: 6,
      bookedHours: 20,
      unbookedUseHours: 1.5,
      slotDetails: [slot('a', 3), slot('b', null), slot('c', 4)],
    }),
    zone({ torg: 'alfa', zone: 'rom-2', slots: 4, ghost: { count: 1, share: 0.25, hours: 1 }, used: 3, bookedHours: 6, unbookedUseHours: 0.5, lowCompleteness: true }),
  ],
};

export const DEAD_LETTERS: DeadLetterCount[] = [
  { torg: 'alfa', code: 'E_READING_INVALID', count: 3 },
  { torg: 'alfa', code: 'E_DEVICE_UNKNOWN', count: 2 },
  { torg: null, code: 'E_PAYLOAD_NOT_JSON', count: 4 },
  { torg: 'beta', code: 'E_READING_INVALID', count: 1 },
];

/** Sources answering the fixture, recording what they were asked. */
export function fixtureSources(over: Partial<ReportSources> = {}): ReportSources & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    indicatorDefinitions: INDICATOR_FILE.indicators,
    metricsMonth: async (m) => {
      calls.push(`metrics ${m}`);
      return { rows: ROWS, rules: { hold: 'hold rule text', gaps: 'gap rule text', completenessThreshold: 0.8 }, computedDays: ['2026-10-31'], missingDays: [] };
    },
    indicators: async (m) => {
      calls.push(`indicators ${m}`);
      return INDICATORS;
    },
    recommendations: async (asOf) => {
      calls.push(`recommendations ${asOf}`);
      return RECOMMENDATIONS;
    },
    bookings: async (m) => {
      calls.push(`bookings ${m}`);
      return BOOKINGS;
    },
    deadLetters: async (from, to) => {
      calls.push(`deadLetters ${from} ${to}`);
      return DEAD_LETTERS;
    },
    ...over,
  };
}
