/**
 * Per-device config from the platform, applied live: the retained messages on
 * `itorg/v1/{torg}/{gateway}/config/devices/{device}` (devices/contract/device-messages.schema.ts).
 * An empty payload deletes a retained message [MQTT-3.3.1-10] and, here, the device's config.
 * An invalid payload is logged with its reason and ignored: the device keeps its previous config.
 */
import type { Logger } from 'pino';
import { deviceConfigSchema, type DeviceConfig } from '../../devices/contract/device-messages.schema.ts';
import { TOPIC_ROOT } from '../../devices/contract/mqtt-topics.ts';

export type ConfigOutcome =
  | { ok: true; action: 'set' | 'removed'; device: string }
  | { ok: false; reason: 'E_CONFIG_TOPIC' | 'E_CONFIG_NOT_JSON' | 'E_CONFIG_INVALID' | 'E_CONFIG_DEVICE_MISMATCH'; detail: string };

export class DeviceConfigStore {
  private readonly configs = new Map<string, DeviceConfig>();
  private readonly prefix: string;

  constructor(
    torg: string,
    gateway: string,
    private readonly logger: Logger,
    /** Bound on stored configs; one per device the platform assigned to this gateway. */
    private readonly maxConfigs = 10_000,
  ) {
    this.prefix = `${TOPIC_ROOT}/${torg}/${gateway}/config/devices/`;
  }

  handle(topic: string, payload: Buffer): ConfigOutcome {
    const out = this.apply(topic, payload);
    if (out.ok) this.logger.info({ device: out.device, action: out.action, config: this.configs.get(out.device) ?? null }, 'device config applied');
    else this.logger.warn({ topic, reason: out.reason, detail: out.detail }, 'device config ignored');
    return out;
  }

  private apply(topic: string, payload: Buffer): ConfigOutcome {
    if (!topic.startsWith(this.prefix)) return { ok: false, reason: 'E_CONFIG_TOPIC', detail: `not a device config topic of this gateway: ${topic}` };
    const device = topic.slice(this.prefix.length);
    if (payload.length === 0) {
      this.configs.delete(device);
      return { ok: true, action: 'removed', device };
    }
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch (err) {
      return { ok: false, reason: 'E_CONFIG_NOT_JSON', detail: (err as Error).message };
    }
    const r = deviceConfigSchema.safeParse(json);
    if (!r.success) {
      const detail = r.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
        .join('; ');
      return { ok: false, reason: 'E_CONFIG_INVALID', detail };
    }
    if (r.data.device !== device) return { ok: false, reason: 'E_CONFIG_DEVICE_MISMATCH', detail: `payload device ${r.data.device} on the topic of ${device}` };
    if (!this.configs.has(device) && this.configs.size >= this.maxConfigs) {
      return { ok: false, reason: 'E_CONFIG_INVALID', detail: `more than ${this.maxConfigs} device configs` };
    }
    this.configs.set(device, r.data);
    return { ok: true, action: 'set', device };
  }

  get(device: string): DeviceConfig | undefined {
    return this.configs.get(device);
  }

  /** A device without config is enabled (pending devices report until an admin decides); a decommissioned one never is (contract). */
  isEnabled(device: string): boolean {
    const c = this.configs.get(device);
    return c === undefined || (c.enabled && c.status !== 'decommissioned');
  }
}
