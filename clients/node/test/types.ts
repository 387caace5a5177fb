// Compiled (never run) by `npm test`: the declarations in lib/index.d.ts describe a usable API.
import { credentials } from '@grpc/grpc-js';
import {
  Client,
  Classification,
  DocTriageError,
  DocumentRejected,
  Overloaded,
  decodeStatus,
  fromStatus,
} from '..';

async function example(): Promise<string[]> {
  const client = new Client('127.0.0.1:50051', { timeout: 10, apiKey: 'key', credentials: credentials.createInsecure() });
  const lines: string[] = [];
  try {
    const one: Classification = await client.classify('invoice.pdf', { requestId: 'r-1' });
    lines.push(`${one.label} ${one.confidence.toFixed(3)} ${one.decision} ${one.requestId}`);
    const bytes = await client.classify(new Uint8Array([0x25, 0x50]), { filename: 'a.pdf', metadata: { country: 'DE' } });
    lines.push(bytes.source);
    for await (const item of client.classifyMany(['a.pdf', { content: new Uint8Array(), clientRef: 'b' }])) {
      lines.push(item.error ? `${item.clientRef} ${item.error.reason}` : item.label);
    }
  } catch (error) {
    if (error instanceof DocumentRejected) lines.push(error.reason, ...error.fieldViolations.map((v) => v.field));
    else if (error instanceof Overloaded) lines.push(String(error.retryAfter ?? 0));
    else if (error instanceof DocTriageError) lines.push(error.code);
    else throw error;
  } finally {
    client.close();
  }
  const status = decodeStatus(new Uint8Array());
  lines.push(fromStatus(status, 'id').requestId);
  return lines;
}

void example;
