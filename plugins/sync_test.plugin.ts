import {
  AutomationPlugin,
  canonicalJson,
  chainHash,
  type PluginContext,
  type PluginResult,
  type RunnablePlugin,
} from '../src/automation/plugin-api.js';

/**
 * A signed update round trip, checked with what an `automation` sender may read: the update is
 * accepted (201); the chain entry the bridge returns hashes exactly what was sent (SPEC §5), so
 * the bridge chained the payload unaltered; and `GET /bucket/status` shows it, with a chain at
 * least as long as the entry's sequence and this module's last update at the entry's time.
 * Reading the entry back (`/provenance/entries/:sequence`) needs an admin token, which the
 * automation deliberately does not hold.
 */
@AutomationPlugin({ name: 'sync_test', description: 'Checks the signed update round trip' })
export class SyncTestPlugin implements RunnablePlugin {
  async run({ bridge, nodeId }: PluginContext): Promise<PluginResult> {
    const { body, entry } = await bridge.sendUpdate({
      probe: 'sync_test',
      node: nodeId,
      sent_at: new Date().toISOString(),
    });
    const expected = chainHash(
      entry.previous_hash,
      {
        type: 'update',
        module: bridge.module,
        canonicalPayload: canonicalJson(body.payload),
        signature: body.signature,
      },
      entry.received_at,
    );
    if (expected !== entry.hash) {
      throw new Error(`chain entry ${entry.sequence} does not hash the update that was sent`);
    }

    const status = await bridge.status(bridge.module);
    if (status.chain.length < entry.sequence) {
      throw new Error(
        `/bucket/status reports a chain of ${status.chain.length} entries, without entry ${entry.sequence}`,
      );
    }
    const module = status.modules.find((candidate) => candidate.module === bridge.module);
    const lastUpdate = module?.last_update ? Date.parse(module.last_update) : undefined;
    if (lastUpdate === undefined || lastUpdate < Date.parse(entry.received_at)) {
      throw new Error(`/bucket/status does not show the update of ${bridge.module} yet`);
    }
    return { module: bridge.module, sequence: entry.sequence, hash: entry.hash };
  }
}
