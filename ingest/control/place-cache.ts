/**
 * The registry as the live state needs it (dashboards/live PlaceLookup): synchronous, per device, many
 * times a second. A snapshot of every device and its open assignment, refreshed on a timer; a reading
 * of a device assigned since the last refresh is attributed to its room at most one period late.
 */
import type { Logger } from 'pino';
import type { PlaceInfo } from '../../dashboards/live/live-state.ts';
import type { Registry } from '../registry/registry.ts';

export class RegistryPlaceCache {
  private byDevice = new Map<string, PlaceInfo>();
  private byTorg = new Map<string, string[]>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;

  constructor(private readonly opts: { registry: Registry; now: () => number; logger: Logger }) {}

  readonly lookup = (device: string): PlaceInfo | undefined => this.byDevice.get(device);
  readonly devicesOf = (torg: string): readonly string[] => this.byTorg.get(torg) ?? [];
  readonly classOf = (device: string): 'mains' | 'battery' | undefined => this.byDevice.get(device)?.deviceClass;

  refresh(): Promise<void> {
    // One refresh at a time; a timer tick during a slow one is skipped, not queued.
    this.running ??= (async () => {
      try {
        const at = this.opts.now();
        const devices = await this.opts.registry.listDevices();
        const next = new Map<string, PlaceInfo>();
        const torgs = new Map<string, string[]>();
        for (const d of devices) {
          const a = d.status === 'active' ? await this.opts.registry.assignmentAt(d.id, at) : null;
          const torg = a?.torg ?? d.torg;
          next.set(d.id, { torg, place: a?.place ?? null, status: d.status, model: d.model, deviceClass: d.deviceClass, expectedIntervalS: d.expectedIntervalS });
          if (d.status !== 'decommissioned') (torgs.get(torg) ?? torgs.set(torg, []).get(torg)!).push(d.id);
        }
        this.byDevice = next;
        this.byTorg = torgs;
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
