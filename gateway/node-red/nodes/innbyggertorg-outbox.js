'use strict';
/**
 * "To platform" node: msg.payload readings (one or an array) → the gateway's disk outbox, from
 * which the uplink drains them to the central broker.
 *
 * done() is called only after the outbox append resolved, i.e. after the readings are durable
 * (gateway/outbox/outbox.ts: append() resolves once they would survive kill -9 and power loss); the
 * message is then passed on with msg.outbox = { accepted, rejected }. A full outbox answers
 * done(err) with the retriable E_OUTBOX_FULL: nothing is dropped silently.
 *
 * Status: green dot = connected, nothing queued; yellow dot = connected, draining a backlog of N;
 * red ring = disconnected with N queued.
 */
const { loadBundle } = require('./load-bundle.js');

/** How often the status re-reads the uplink state; the uplink has no change events to listen to. */
const STATUS_INTERVAL_MS = 1000;

module.exports = function (RED) {
  const lib = loadBundle();

  function OutboxNode(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    const platform = RED.nodes.getNode(config.platform);
    let lastStatus = '';

    function currentLink() {
      if (!platform) throw lib.nodeError('E_CONFIG_INVALID', 'no innbyggertorg-platform config node selected', false);
      if (platform.linkError) throw lib.nodeError('E_CONFIG_INVALID', platform.linkError.message, false);
      if (!platform.link) throw lib.nodeError('E_OUTBOX_CLOSED', 'the platform link is closed', false);
      return platform.link;
    }

    function showStatus() {
      let view;
      try {
        const link = currentLink();
        view = lib.outboxStatus(link.uplinkState(), link.outbox.depth());
      } catch {
        view = { fill: 'red', shape: 'ring', key: 'config', depth: 0 };
      }
      const label = RED._(`innbyggertorg-outbox.status.${view.key}`);
      const text = view.key === 'connected' || view.key === 'config' ? label : `${label} (${RED._('innbyggertorg-outbox.status.queued')}: ${view.depth})`;
      const key = `${view.fill}/${view.shape}/${text}`;
      if (key === lastStatus) return;
      lastStatus = key;
      node.status({ fill: view.fill, shape: view.shape, text });
    }

    const timer = setInterval(showStatus, STATUS_INTERVAL_MS);
    timer.unref();
    showStatus();

    node.on('input', function (msg, send, done) {
      let link;
      try {
        link = currentLink();
      } catch (err) {
        done(err);
        return;
      }
      const prepared = lib.prepareReadings(msg.payload, link.clock.now(), link.limits);
      const rejectedError =
        prepared.rejected.length > 0
          ? lib.nodeError(
              prepared.rejected[0].code,
              `${prepared.rejected.length} reading(s) refused: ${prepared.rejected.map((r) => `${r.code}: ${r.detail}`).join('; ')}`,
            )
          : null;
      if (prepared.good.length === 0) {
        done(rejectedError || lib.nodeError('E_READING_INVALID', 'msg.payload holds no readings', false));
        return;
      }
      link.outbox.append(prepared.good).then(
        () => {
          showStatus();
          msg.outbox = { accepted: prepared.good.length, rejected: prepared.rejected.length };
          send(msg);
          done(rejectedError || undefined);
        },
        (err) => {
          showStatus();
          done(lib.toNodeError(err));
        },
      );
    });

    node.on('close', function () {
      clearInterval(timer);
    });
  }

  RED.nodes.registerType('innbyggertorg-outbox', OutboxNode);
};
