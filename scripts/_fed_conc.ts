import http from 'node:http';
import pino from 'pino';
import { loadConfig } from '../server/config.ts';
import { federationOf } from '../server/federation/federation.module.ts';
import { startInstance } from '../server/instance.ts';
import { freePort, tempDir } from '../tests/helpers/instance.ts';
const port = await freePort();
const config = loadConfig({ PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, DATA_DIR: tempDir(), FEDERATION_ALLOW_PRIVATE: 'true', LOG_LEVEL: 'silent', ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}) });
const inst = await startInstance(config, { logger: pino({ level: 'silent' }) });
const fed = federationOf(inst.ctx)!;
await fed.rt.keys();
const servers: string[] = [];
for (let i = 0; i < 100; i++) {
  const s = http.createServer((req, res) => { req.resume(); req.on('end', () => setTimeout(() => res.writeHead(202).end(), 50)); });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  servers.push(`http://127.0.0.1:${(s.address() as any).port}/inbox`);
}
const activity = { id: 'http://x/a', type: 'Create' };
for (let round = 0; round < 3; round++) {
  const t = performance.now();
  await Promise.all(servers.map((inbox) => fed.delivery.deliver({ inbox, activityId: 'x', activity })));
  console.log('100 concurrent deliveries ms', (performance.now() - t).toFixed(0));
}
let t = performance.now();
for (const inbox of servers.slice(0, 20)) await fed.delivery.deliver({ inbox, activityId: 'x', activity });
console.log('sequential ms each', ((performance.now() - t) / 20).toFixed(1));
const { signRequest } = await import('@fedify/fedify');
const keys = await fed.rt.keys();
t = performance.now();
for (let i = 0; i < 50; i++) await signRequest(new Request(servers[0]!, { method: 'POST', body: '{}' }), keys.rsa.privateKey, fed.rt.urls.keyId, { spec: 'draft-cavage-http-signatures-12' });
console.log('sign ms each', ((performance.now() - t) / 50).toFixed(1));
t = performance.now();
for (let i = 0; i < 20; i++) await fed.rt.guard.fetch(servers[1]!, { method: 'POST', body: '{}' });
console.log('guard POST ms each', ((performance.now() - t) / 20).toFixed(1));
process.exit(0);
