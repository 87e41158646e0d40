'use strict';
/**
 * Decode node: msg.payload (a raw LoRaWAN frame for a chosen device model, or a ChirpStack v4 /
 * The Things Stack v3 / zigbee2mqtt message) → msg.payload = contract readings, validated.
 *
 * Failures go to done(err) with the stable code first in the message, so a catch node sees it, and
 * are counted in the status; the node keeps handling the next message
 * (https://nodered.org/docs/user-guide/handling-errors). Readings that decode but fail the contract
 * are sent on without the bad ones and also reported through done(err).
 */
const { loadBundle } = require('./load-bundle.js');

module.exports = function (RED) {
  const lib = loadBundle();

  function DecodeNode(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    const parsed = lib.decodeNodeConfigSchema.safeParse({
      format: config.format,
      model: config.model || '',
      zigbeeBaseTopic: config.zigbeeBaseTopic || undefined,
    });
    if (!parsed.success) {
      node.error(`E_CONFIG_INVALID: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      node.status({ fill: 'red', shape: 'ring', text: 'innbyggertorg-decode.status.config' });
      return;
    }
    const host = RED.settings[lib.HOST_SETTINGS_KEY];
    const clock = host && host.clock ? host.clock : lib.systemClock;
    const decoder = new lib.MessageDecoder(parsed.data, clock);
    let decoded = 0;
    let failed = 0;
    let lastCode = '';

    function showStatus() {
      if (failed === 0) {
        node.status({ fill: 'green', shape: 'dot', text: `${RED._('innbyggertorg-decode.status.readings')}: ${decoded}` });
      } else {
        node.status({
          fill: 'red',
          shape: 'ring',
          text: `${RED._('innbyggertorg-decode.status.readings')}: ${decoded}, ${RED._('innbyggertorg-decode.status.errors')}: ${failed} (${lastCode})`,
        });
      }
    }

    node.on('input', function (msg, send, done) {
      let outcome;
      try {
        outcome = decoder.decode(msg.payload, msg.topic, msg.model);
      } catch (err) {
        // Not a coded failure: a decoder bug. Still this message only; the flow goes on.
        failed++;
        lastCode = 'E_DECODE_BAD_VALUE';
        showStatus();
        done(lib.nodeError('E_DECODE_BAD_VALUE', err instanceof Error ? err.message : String(err), false));
        return;
      }
      if (!outcome.ok) {
        failed++;
        lastCode = outcome.code;
        showStatus();
        done(lib.nodeError(outcome.code, outcome.detail, outcome.retriable));
        return;
      }
      if (outcome.readings.length > 0) {
        decoded += outcome.readings.length;
        msg.payload = outcome.readings;
        send(msg);
      }
      const firstRejection = outcome.rejected[0];
      if (firstRejection) {
        failed++;
        lastCode = firstRejection.code;
        showStatus();
        const detail = outcome.rejected.map((r) => `${r.code}: ${r.detail}`).join('; ');
        done(lib.nodeError(firstRejection.code, `${outcome.rejected.length} reading(s) refused: ${detail}`));
        return;
      }
      showStatus();
      done();
    });
  }

  RED.nodes.registerType('innbyggertorg-decode', DecodeNode);

  // The editor's model dropdown comes from the device models themselves, not a copied list.
  RED.httpAdmin.get('/innbyggertorg/models', RED.auth.needsPermission('innbyggertorg-decode.read'), function (req, res) {
    res.json(lib.modelChoices());
  });
};
