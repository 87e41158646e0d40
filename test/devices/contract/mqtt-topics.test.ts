import { describe, expect, it } from 'vitest';
import { filters, parseDeviceBirthTopic, parseReadingsTopic, topics } from '../../../devices/contract/mqtt-topics.ts';

describe('mqtt topic layout', () => {
  it('round-trips a readings topic', () => {
    expect(topics.readings('heggedal', 'gw-1')).toBe('itorg/v1/heggedal/gw-1/readings');
    expect(parseReadingsTopic('itorg/v1/heggedal/gw-1/readings')).toEqual({ torg: 'heggedal', gateway: 'gw-1' });
  });
  it('does not parse other topics or bad ids as readings', () => {
    expect(parseReadingsTopic('itorg/v1/heggedal/gw-1/state')).toBeNull();
    expect(parseReadingsTopic('itorg/v2/heggedal/gw-1/readings')).toBeNull();
    expect(parseReadingsTopic('itorg/v1/Heggedal/gw-1/readings')).toBeNull();
    expect(parseReadingsTopic('itorg/v1/heggedal/gw-1/x/readings')).toBeNull();
  });
  it('round-trips a device birth topic, and does not parse other topics or bad ids as one', () => {
    expect(topics.deviceBirth('heggedal', 'gw-1', '0x00158d0001a2b3c4')).toBe('itorg/v1/heggedal/gw-1/devices/0x00158d0001a2b3c4/birth');
    expect(parseDeviceBirthTopic('itorg/v1/heggedal/gw-1/devices/0x00158d0001a2b3c4/birth')).toEqual({ torg: 'heggedal', gateway: 'gw-1', device: '0x00158d0001a2b3c4' });
    expect(parseDeviceBirthTopic('itorg/v1/heggedal/gw-1/readings')).toBeNull();
    expect(parseDeviceBirthTopic('itorg/v1/heggedal/gw-1/devices/0x00158d0001a2b3c4/config')).toBeNull();
    expect(parseDeviceBirthTopic('itorg/v1/heggedal/gw-1/config/devices/0x00158d0001a2b3c4')).toBeNull();
    expect(parseDeviceBirthTopic('itorg/v2/heggedal/gw-1/devices/0x00158d0001a2b3c4/birth')).toBeNull();
    expect(parseDeviceBirthTopic('itorg/v1/Heggedal/gw-1/devices/0x00158d0001a2b3c4/birth')).toBeNull();
    expect(parseDeviceBirthTopic('itorg/v1/heggedal/gw 1/devices/0x00158d0001a2b3c4/birth')).toBeNull();
    expect(parseDeviceBirthTopic('itorg/v1/heggedal/gw-1/devices//birth')).toBeNull();
    expect(parseDeviceBirthTopic('itorg/v1/heggedal/gw-1/devices/a/b/birth')).toBeNull();
  });
  it('builds a shared subscription filter', () => {
    expect(filters.shared('ingest', filters.allReadings)).toBe('$share/ingest/itorg/v1/+/+/readings');
  });
  it('keeps every gateway-produced topic under the gateway prefix (one ACL pattern per gateway)', () => {
    const prefix = 'itorg/v1/slemmestad/gw-a/';
    for (const topic of [
      topics.readings('slemmestad', 'gw-a'),
      topics.gatewayState('slemmestad', 'gw-a'),
      topics.inventory('slemmestad', 'gw-a'),
      topics.deviceBirth('slemmestad', 'gw-a', 'a81758fffe0312e5'),
    ]) expect(topic.startsWith(prefix)).toBe(true);
  });
});
