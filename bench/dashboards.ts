/**
 * `--dashboards N`: N InsightFlow pages' live streams (GET /insight/api/stream, SPEC §10) kept open
 * on the service while it is measured, spread over the replicas, so the ingestion figures can be
 * compared with and without open dashboards.
 */
export interface OpenDashboards {
  /** Ends every stream; returns how many snapshots they received in all. */
  close(): Promise<{ streams: number; snapshotsReceived: number }>;
}

export async function openDashboards(
  baseUrls: string[],
  count: number,
  adminToken: string,
): Promise<OpenDashboards> {
  const abort = new AbortController();
  let snapshotsReceived = 0;
  const streams = await Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const response = await fetch(`${baseUrls[index % baseUrls.length]}/insight/api/stream`, {
        headers: { Authorization: `Bearer ${adminToken}` },
        signal: abort.signal,
      });
      if (response.status !== 200 || !response.body)
        throw new Error(`dashboard stream answered ${response.status}`);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      // Wrapped: an async function returning the promise itself would wait for the stream's end.
      const done = (async () => {
        try {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) return;
            snapshotsReceived += value.split('event: snapshot').length - 1;
          }
        } catch {
          // aborted by close()
        }
      })();
      return { done };
    }),
  );
  return {
    close: async () => {
      abort.abort();
      await Promise.all(streams.map((stream) => stream.done));
      return { streams: count, snapshotsReceived };
    },
  };
}
