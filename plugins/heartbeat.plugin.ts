import { loadavg } from 'node:os';
import {
  AutomationPlugin,
  HEARTBEAT_STATUSES,
  type HeartbeatStatus,
  type PluginContext,
  type PluginResult,
  type RunnablePlugin,
} from '../src/automation/plugin-api.js';

/**
 * Sends a signed heartbeat carrying the node id (`payload.node`) and a few process metrics.
 * Params: `status` (`alive` by default, or `degraded` / `stopping`).
 */
@AutomationPlugin({ name: 'heartbeat', description: 'Sends a signed heartbeat with the node id' })
export class HeartbeatPlugin implements RunnablePlugin {
  async run({ bridge, params }: PluginContext): Promise<PluginResult> {
    const status = params.status ?? 'alive';
    if (!HEARTBEAT_STATUSES.includes(status as HeartbeatStatus)) {
      throw new Error(`params.status must be one of ${HEARTBEAT_STATUSES.join(', ')}`);
    }
    const { entry } = await bridge.sendHeartbeat(status as HeartbeatStatus, {
      metrics: {
        uptime_seconds: Math.round(process.uptime()),
        rss_mb: Math.round(process.memoryUsage().rss / 2 ** 20),
        load_1m: Number(loadavg()[0].toFixed(2)),
      },
    });
    return { module: bridge.module, node: bridge.nodeId, sequence: entry.sequence };
  }
}
