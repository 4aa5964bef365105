/** Run as another uid/gid: fetches X.509-SVIDs and prints `{"ids": [...]}` or `{"code": N}` on stdout. */
import { firstMessages, securityHeader, workloadClient } from './grpc-client.js';

const client = workloadClient(process.argv[2]!);
try {
  const [m] = await firstMessages(client.FetchX509SVID({}, securityHeader()), 1, 15_000);
  process.stdout.write(JSON.stringify({ ids: m.svids.map((s: { spiffe_id: string }) => s.spiffe_id) }) + '\n');
} catch (err) {
  process.stdout.write(JSON.stringify({ code: (err as { code?: number }).code ?? -1, details: (err as { details?: string }).details }) + '\n');
} finally {
  client.close();
}
