import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../server/config.ts';
import { decodeRealtimeMessage, encodeRealtimeMessage, MAX_REALTIME_PAYLOAD } from '../../server/realtime/realtime.publish.ts';
import { maxRealtimeConnections } from '../../server/realtime/realtime.routes.ts';

describe('realtime messages and settings', () => {
  it('encodes small messages and refuses one too large for NOTIFY', () => {
    const json = encodeRealtimeMessage('announcements', { id: 'a', title: 'Été' });
    expect(JSON.parse(json)).toEqual({ topic: 'announcements', data: { id: 'a', title: 'Été' } });
    expect(() => encodeRealtimeMessage('announcements', { title: 'é'.repeat(MAX_REALTIME_PAYLOAD) })).toThrow(/limit/);
  });

  it('decodes only messages of its own shape', () => {
    expect(decodeRealtimeMessage('{"topic":"announcements","data":{"id":"x"}}')?.topic).toBe('announcements');
    expect(decodeRealtimeMessage('not json')).toBeUndefined();
    expect(decodeRealtimeMessage('{"topic":1,"data":{}}')).toBeUndefined();
    expect(decodeRealtimeMessage('{"topic":"a","data":null}')).toBeUndefined();
  });

  it('reads REALTIME_MAX_CONNECTIONS, 10,000 by default, and names it when it is wrong', () => {
    expect(maxRealtimeConnections({})).toBe(10_000);
    expect(maxRealtimeConnections({ REALTIME_MAX_CONNECTIONS: '250' })).toBe(250);
    expect(() => maxRealtimeConnections({ REALTIME_MAX_CONNECTIONS: 'many' })).toThrow(ConfigError);
    expect(() => maxRealtimeConnections({ REALTIME_MAX_CONNECTIONS: '-1' })).toThrow(/REALTIME_MAX_CONNECTIONS/);
  });
});
