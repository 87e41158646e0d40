/**
 * The registry as the live state and the metrics need it (dashboards/live PlaceLookup,
 * dashboards/metrics AssignmentLookup): synchronous, per device, many times a second. A snapshot of
 * every device and its assignment history, refreshed on a timer; a reading of a device assigned since
 * the last refresh is attributed to its room at most one period late (and the metrics recompute the
 * day when the assignment is backdated: late data).
 */
import type { Logger } from 'pino';
import type { PlaceInfo } from '../../dashboards/live/live-state.ts';
import type { AssignmentRecord, Place, Registry } from '../registry/registry.ts';

export class RegistryPlaceCache {
  private byDevice = new Map<string, PlaceInfo>();
  private byTorg = new Map<string, string[]>();
  private histories = new Map<string, readonly AssignmentRecord[]>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;

  constructor(private readonly opts: { registry: Registry; now: () => number; logger: Logger }) {}

  readonly lookup = (device: string): PlaceInfo | undefined => this.byDevice.get(device);
  readonly devicesOf = (torg: string): readonly string[] => this.byTorg.get(torg) ?? [];
  readonly classOf = (device: string): 'mains' | 'battery' | undefined => this.byDevice.get(device)?.deviceClass;

  /** Where the device was at `atMs` (half-open intervals, as Registry.assignmentAt), or null. */
  readonly assignmentAt = (device: string, atMs: number): { torg: string; place: Place } | null => {
    const h = this.histories.get(device);
    if (!h) return null;
    // Histories are short (a device moves a few times in its life): a scan from the newest is enough.
    for (let i = h.length - 1; i >= 0; i--) {
      const a = h[i]!;
      if (a.validFrom <= atMs && (a.validTo === null || atMs < a.validTo)) return { torg: a.torg, place: a.place };
      if (a.validFrom <= atMs) return null;
    }
    return null;
  };

  refresh(): Promise<void> {
    // One refresh at a time; a timer tick during a slow one is skipped, not queued.
    this.running ??= (async () => {
      try {
        const at = this.opts.now();
        const [devices, assignments] = await Promise.all([this.opts.registry.listDevices(), this.opts.registry.listAssignments()]);
        const histories = new Map<string, AssignmentRecord[]>();
        // listAssignments is ordered by device, then oldest first: each history comes out in order.
        for (const a of assignments) (histories.get(a.device) ?? histories.set(a.device, []).get(a.device)!).push(a);
        const next = new Map<string, PlaceInfo>();
        const torgs = new Map<string, string[]>();
        for (const d of devices) {
          const open = histories.get(d.id)?.at(-1);
          const a = d.status === 'active' && open !== undefined && open.validFrom <= at && open.validTo === null ? open : null;
          const torg = a?.torg ?? d.torg;
          next.set(d.id, { torg, place: a?.place ?? null, status: d.status, model: d.model, deviceClass: d.deviceClass, expectedIntervalS: d.expectedIntervalS });
          if (d.status !== 'decommissioned') (torgs.get(torg) ?? torgs.set(torg, []).get(torg)!).push(d.id);
        }
        this.byDevice = next;
        this.byTorg = torgs;
        this.histories = histories;
      } catch (err) {
        this.opts.logger.warn({ err }, 'registry place cache refresh failed; keeping the previous one');
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  start(everyMs: number): void {
    this.timer = setInterval(() => void this.refresh(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
