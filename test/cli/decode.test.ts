import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DECODE_EXIT, runDecode, type DecodeOptions } from '../../cli/decode.ts';
import { readingSchema } from '../../devices/contract/reading.schema.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const MODELS = join(REPO, 'devices/models');
const NOW = Date.parse('2026-11-24T10:00:00.000Z');
const DEVICE = '24e124710c000001';
const TIME = '2026-11-24T09:15:00.000Z';

const goldenSchema = z.object({
  cases: z.array(
    z.object({
      description: z.string(),
      fPort: z.number().int(),
      bytesHex: z.string(),
      expected: z.array(z.record(z.string(), z.unknown())).optional(),
      expectedError: z.string().optional(),
    }),
  ),
});

/** Every golden file, with the model id its folder and name give (devices/models/<vendor>/<model>.golden.json). */
const goldens = readdirSync(MODELS, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.golden.json'))
  .sort()
  .map((f) => ({
    modelId: `${dirname(f)}-${basename(f, '.golden.json')}`,
    golden: goldenSchema.parse(JSON.parse(readFileSync(join(MODELS, f), 'utf8'))),
  }));

async function run(o: Omit<DecodeOptions, 'verify'> & { verify?: boolean }, stdin = '') {
  let stdout = '';
  let stderr = '';
  const code = await runDecode(
    { verify: true, ...o },
    { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), stdin: Readable.from([stdin]), now: () => NOW, lang: 'en' },
  );
  return { code, stdout, stderr };
}

const tmp = mkdtempSync(join(tmpdir(), 'decode-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('decode: raw payloads against the golden files', () => {
  it('finds a golden file for every vendor folder', () => {
    expect(goldens.length).toBeGreaterThanOrEqual(21);
  });

  for (const { modelId, golden } of goldens) {
    for (const c of golden.cases) {
      if (c.expectedError !== undefined) {
        it(`${modelId}: ${c.description} (exit 2, ${c.expectedError})`, async () => {
          const r = await run({ model: modelId, fport: c.fPort, hex: c.bytesHex, device: DEVICE, time: TIME });
          expect(r.code).toBe(DECODE_EXIT.decode);
          expect(r.stderr.startsWith(`${c.expectedError}: `)).toBe(true);
          expect(r.stdout).toBe('');
        });
        continue;
      }
      if (c.expected === undefined) continue;
      it(`${modelId}: ${c.description}`, async () => {
        const r = await run({ model: modelId, fport: c.fPort, hex: c.bytesHex, device: DEVICE, time: TIME });
        expect(r.stderr).toBe('');
        expect(r.code).toBe(DECODE_EXIT.ok);
        // Golden `expected` leaves out device and (when it is the uplink's) time; the contract's
        // defaults (a counter's line) apply to what the golden writes.
        const expected = c.expected!.map((e) => readingSchema.parse({ device: DEVICE, time: TIME, ...e }));
        expect(JSON.parse(r.stdout)).toEqual(expected);
      });
    }
  }

  it('takes the same bytes as base64', async () => {
    // milesight am307 golden case 2, 077de704087d070009733f27, in base64.
    const r = await run({ model: 'milesight-am307', fport: 85, base64: 'B33nBAh9BwAJcz8n', device: DEVICE, time: TIME });
    expect(r.code).toBe(DECODE_EXIT.ok);
    expect(JSON.parse(r.stdout)).toEqual([{ device: DEVICE, time: TIME, kind: 'climate', co2: 1255, pressure: 1004.7 }]);
  });

  it('stamps the injected clock when --time is not given', async () => {
    const r = await run({ model: 'milesight-am307', fport: 85, hex: '077de704087d070009733f27', device: DEVICE });
    expect(JSON.parse(r.stdout)).toEqual([{ device: DEVICE, time: '2026-11-24T10:00:00.000Z', kind: 'climate', co2: 1255, pressure: 1004.7 }]);
  });
});

describe('decode: errors', () => {
  it('a truncated payload exits 2 with E_DECODE_TRUNCATED', async () => {
    // am307 temperature channel 03 67 needs two value bytes; only one follows.
    const r = await run({ model: 'milesight-am307', fport: 85, hex: '0367ee', device: DEVICE, time: TIME });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^E_DECODE_TRUNCATED: /);
    expect(r.stdout).toBe('');
  });

  it('a golden expectedError case exits 2 with that code', async () => {
    const r = await run({ model: 'milesight-am307', fport: 85, hex: '01755c03673401046865056a4900', device: DEVICE, time: TIME });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^E_DECODE_UNKNOWN_CHANNEL: /);
  });

  it('an unknown model exits 1 and says how to list the model ids', async () => {
    const r = await run({ model: 'acme-x1', fport: 85, hex: '00' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('acme-x1');
    expect(r.stderr).toContain('--list-models');
  });

  it('refuses malformed base64 instead of decoding fewer bytes', async () => {
    const r = await run({ model: 'milesight-am307', fport: 85, base64: 'B33n!BAh9' });
    expect(r.code).toBe(1);
  });

  it('DT without --secret/--signature and without --no-verify is a usage error', async () => {
    const file = join(tmp, 'dt.json');
    writeFileSync(file, readFileSync(join(REPO, 'test/fixtures/sources/disruptive-technologies/temperature.json')));
    const r = await run({ envelope: 'dt', file });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--no-verify');
  });
});

describe('decode: envelopes', () => {
  const fixture = JSON.parse(readFileSync(join(REPO, 'test/fixtures/sources/chirpstack-v4/http-up-event.json'), 'utf8')) as Record<string, unknown>;
  // The fixture's device (7cf95720fc015fef, Dingtek) has no model here; its envelope carries the
  // AM307 README example instead (hex 0367ee00…, fPort 85), everything else unchanged.
  const envelope = { ...fixture, fPort: 85, data: Buffer.from('0367ee0004687c05000106cb02077da803087d250009736627', 'hex').toString('base64') };
  const device = '7cf95720fc015fef';
  // Fixture "time": 2022-10-03T03:17:10.427430120+00:00, truncated to ms; rxInfo rssi -74, snr 9.8.
  const time = '2022-10-03T03:17:10.427Z';
  const expected = [
    { device, time, timeSource: 'network', kind: 'presence', occupied: true },
    { device, time, timeSource: 'network', kind: 'climate', temperature: 23.8, humidity: 62, co2: 936, pressure: 1008.6 },
    { device, time, timeSource: 'network', receivedAt: '2026-11-24T10:00:00.000Z', kind: 'health', rssi: -74, snr: 9.8 },
  ];

  it('ChirpStack v4 up event from a file: readings for its device, plus radio health', async () => {
    const file = join(tmp, 'cs.json');
    writeFileSync(file, JSON.stringify(envelope));
    const r = await run({ envelope: 'chirpstack-v4', file, model: 'milesight-am307' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(expected);
  });

  it('ChirpStack v4 up event on stdin (--file -)', async () => {
    const r = await run({ envelope: 'chirpstack-v4', file: '-', model: 'milesight-am307' }, JSON.stringify(envelope));
    expect(JSON.parse(r.stdout)).toEqual(expected);
  });

  it('the unchanged fixture without --model exits 2: no model known for its DevEUI', async () => {
    const r = await run({ envelope: 'chirpstack-v4', file: join(REPO, 'test/fixtures/sources/chirpstack-v4/http-up-event.json') });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^E_DECODE_UNKNOWN_DEVICE: .*7cf95720fc015fef/);
  });

  it('DT Data Connector body with --no-verify', async () => {
    // Signed body of dataconnector-webhook-temperature.json: device emucdd6ef2eu277bo8f52vg, 27 °C at 2024-05-29T10:34:03.970415Z.
    const doc = JSON.parse(readFileSync(join(REPO, 'test/fixtures/sources/disruptive-technologies/dataconnector-webhook-temperature.json'), 'utf8')) as {
      body_str_exact_bytes_signed: string;
    };
    const file = join(tmp, 'dt-body.json');
    writeFileSync(file, doc.body_str_exact_bytes_signed);
    const r = await run({ envelope: 'dt', file, verify: false });
    expect(r.code).toBe(0);
    const readings = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(readings).toHaveLength(1);
    expect(readings[0]).toMatchObject({ device: 'emucdd6ef2eu277bo8f52vg', kind: 'climate', temperature: 27, time: '2024-05-29T10:34:03.970Z' });
  });
});

describe('decode: the real command line', () => {
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(REPO, 'cli/main.ts'), '--lang', 'en', 'decode', ...args], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });

  it('prints the readings and exits 0', () => {
    const r = cli('--model', 'milesight-am307', '--fport', '85', '--hex', '077de704087d070009733f27', '--device', DEVICE, '--time', TIME);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([{ device: DEVICE, time: TIME, kind: 'climate', co2: 1255, pressure: 1004.7 }]);
  });

  it('exits 1 for an unknown model, pointing at --list-models, which lists every model', () => {
    const r = cli('--model', 'acme-x1', '--fport', '85', '--hex', '00');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('--list-models');
    const list = cli('--list-models');
    expect(list.status).toBe(0);
    const ids = list.stdout.trim().split('\n').map((l) => l.split(/\s+/)[0]);
    expect(ids).toEqual(goldens.map((g) => g.modelId).sort());
    expect(list.stdout).toMatch(/^milesight-am307\s+Milesight AM307\s+climate, presence/m);
  });

  it('exits 2 with E_DECODE_TRUNCATED for a truncated payload', () => {
    const r = cli('--model', 'milesight-am307', '--fport', '85', '--hex', '0367ee');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('E_DECODE_TRUNCATED');
  });
});
