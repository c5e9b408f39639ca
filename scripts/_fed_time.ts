import { startTestInstance } from '../tests/helpers/instance.ts';
const t0 = Date.now();
const a = await startTestInstance({});
console.log('start ms', Date.now() - t0);
const t1 = Date.now(); await a.destroy(); console.log('stop ms', Date.now() - t1);
