/**
 * Dragino LDS02 door sensor.
 *
 * Uplink on fPort 10, 10 bytes, big-endian (Dragino LDS02 User Manual, "Uplink Payload"):
 *   bytes 0-1  bit 15 = door status, 1 = OPEN, 0 = closed (Dragino's polarity is the opposite of
 *              zigbee2mqtt's `contact`); bit 14 = water-leak status; bits 13..0 = battery mV
 *   byte 2     MOD: 1 = door mode, 2 = water-leak mode (the LWL02 firmware), 3 = both statuses
 *   bytes 3-5  total door-open events (uint24)
 *   bytes 6-8  duration of the last door opening in minutes (uint24)
 *   byte 9     bit 0 = alarm (door open longer than the configured limit)
 *
 * TheThingsNetwork/lorawan-devices vendor/dragino/lds02-codec.yaml's example carries only 7 of
 * the 10 bytes; its decoder reads past the end and reports LAST_DOOR_OPEN_DURATION 65536 and
 * ALARM 0 from missing bytes. Here a short payload is refused as truncated.
 *
 * Not emitted: battery (mV; the contract wants %, Dragino gives no curve), the last-open
 * duration and the alarm flag (no contract fields). Other ports (e.g. 5, the device-status
 * uplink) carry no readings and are refused as E_DECODE_BAD_PORT.
 */
import type { ReadingInput } from '../../contract/reading.schema.ts';
import { DecodeError } from '../device-model.ts';
import type { LorawanDeviceModel } from '../device-model.ts';

export const LDS02_PORT = 10;
export const LDS02_LENGTH = 10;

export const draginoLds02: LorawanDeviceModel = {
  id: 'dragino-lds02',
  vendor: 'Dragino',
  model: 'LDS02',
  transport: 'lorawan',
  kinds: ['door'],
  power: 'battery',
  docs: [
    'https://wiki.dragino.com/xwiki/bin/view/Main/User%20Manual%20for%20LoRaWAN%20End%20Nodes/LDS02%20-%20LoRaWAN%20Door%20Sensor%20User%20Manual/',
    'TheThingsNetwork/lorawan-devices vendor/dragino/lds02.js and lds02-codec.yaml',
  ],
  decode(fPort, bytes, ctx): ReadingInput[] {
    if (fPort !== LDS02_PORT) throw new DecodeError('E_DECODE_BAD_PORT', `LDS02 sends readings on fPort ${LDS02_PORT}, got ${fPort}`);
    if (bytes.length < LDS02_LENGTH) throw new DecodeError('E_DECODE_TRUNCATED', `LDS02 uplink has ${bytes.length} of ${LDS02_LENGTH} bytes`);
    const status = bytes[0] ?? 0;
    const mode = bytes[2] ?? 0;
    const open = (status & 0x80) !== 0;
    if (mode === 1) {
      const openings = ((bytes[3] ?? 0) << 16) | ((bytes[4] ?? 0) << 8) | (bytes[5] ?? 0);
      return [{ kind: 'door', device: ctx.device, time: ctx.time, open, openings }];
    }
    // Mode 3 reports both statuses but no counters.
    if (mode === 3) return [{ kind: 'door', device: ctx.device, time: ctx.time, open }];
    throw new DecodeError('E_DECODE_BAD_VALUE', `LDS02 MOD ${mode} is not a door mode (1 or 3)`);
  },
};
