import { configure, getConsoleSink } from '@logtape/logtape';
import { startNetwork, waitFor } from '../tests/helpers/federation.ts';
await configure({ sinks: { console: getConsoleSink() }, loggers: [{ category: 'fedify', lowestLevel: 'debug', sinks: ['console'] }, { category: ['logtape', 'meta'], lowestLevel: 'warning', sinks: ['console'] }] });
const a = await startNetwork('aura'); const b = await startNetwork('idf');
console.log('follow', await b.api('POST', '/api/v1/follows', { target: a.address }));
await new Promise(r => setTimeout(r, 6000));
console.log(await b.api('GET', '/api/v1/follows'), await a.api('GET', '/api/v1/followers'));
await a.destroy(); await b.destroy();
