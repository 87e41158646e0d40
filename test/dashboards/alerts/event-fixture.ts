import type { AlertEvent } from '../../../dashboards/alerts/alert-event.ts';

/** Hand-written events (not produced by the engine), so the sink tests do not depend on it. */
export const FIRING: AlertEvent = {
  id: '0123456789abcdef',
  rule: 'co2_high',
  torg: 'nordby',
  subject: 'mote-1',
  subjectName: 'Møterom 1',
  severity: 'warning',
  state: 'firing',
  since: 1_795_424_400_000,
  at: 1_795_425_300_000,
  value: 1240,
  threshold: 1000,
  message: { nb: 'CO2 over 1000 ppm i "Møterom 1", 15 min', en: 'CO2 above 1000 ppm in "Møterom 1", 15 min' },
};

export const RESOLVED: AlertEvent = {
  ...FIRING,
  state: 'resolved',
  at: 1_795_426_800_000,
  value: 850.5,
  message: { nb: 'CO2 i Møterom 1 er i orden igjen', en: 'CO2 in Møterom 1 is back to normal' },
};
