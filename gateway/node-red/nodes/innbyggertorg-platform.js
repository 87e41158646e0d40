'use strict';
/**
 * Config node: where readings go (central broker, torg, gateway, outbox file) and the broker
 * credentials. Credentials use Node-RED's credentials mechanism, so they are stored encrypted in
 * flows_cred.json and never appear in the flow JSON or an export
 * (https://nodered.org/docs/creating-nodes/credentials).
 *
 * Standalone it opens the outbox and starts the uplink; embedded in the gateway (settings
 * `innbyggertorgGateway`) it opens nothing and the gateway's own outbox is used.
 */
const { loadBundle } = require('./load-bundle.js');

module.exports = function (RED) {
  const lib = loadBundle();

  function PlatformNode(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    node.link = null;
    node.linkError = null;
    try {
      const host = lib.linkFromHost(RED.settings[lib.HOST_SETTINGS_KEY]);
      if (host) {
        node.link = host;
      } else {
        const parsed = lib.platformConfigSchema.safeParse({
          url: config.url,
          torg: config.torg,
          gateway: config.gateway,
          tls: config.tls === true || config.tls === 'true',
          caFile: config.caFile || '',
          outboxPath: config.outboxPath,
          clientId: config.clientId || '',
        });
        if (!parsed.success) {
          const detail = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
          throw lib.nodeError('E_CONFIG_INVALID', detail, false);
        }
        const creds = lib.platformCredentialsSchema.parse(node.credentials || {});
        node.link = lib.openStandaloneLink(parsed.data, creds, lib.createNodeLogger(node));
      }
    } catch (err) {
      node.linkError = err instanceof Error ? err : new Error(String(err));
      node.error(node.linkError.message);
    }

    node.on('close', function (removed, done) {
      const link = node.link;
      node.link = null;
      if (!link) return done();
      link.close().then(
        () => done(),
        (err) => {
          node.error(err instanceof Error ? err.message : String(err));
          done();
        },
      );
    });
  }

  RED.nodes.registerType('innbyggertorg-platform', PlatformNode, {
    credentials: {
      username: { type: 'text' },
      password: { type: 'password' },
    },
  });
};
