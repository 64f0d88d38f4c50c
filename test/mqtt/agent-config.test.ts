import test from 'ava'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AgentConfigError, Backoff, duration, parseConfig } from '../../mqtt/agent/index.js'
import { quietLogs } from '../helpers/quiet.js'

quietLogs(test)

test('Mongoose OS keys, with a backup server in mqtt1', t => {
    const c = parseConfig({
        mqtt: {
            enable: true, server: 'broker.local:1884', client_id: 'dev-1', clean_session: false, keep_alive: 30, user: 'u', pass: 'p',
            will_topic: 'status/dev-1', will_message: 'offline', ssl_ca_cert: 'ca.pem', ssl_cert: 'c.pem', ssl_key: 'k.pem',
            reconnect_timeout_min: 2, reconnect_timeout_max: 60,
        },
        mqtt1: { enable: true, server: 'backup.local' },
        subscriptions: ['dev-1/cmd/#', { topic: 'all/#', qos: 0 }],
    })
    t.is(c.servers.length, 2)
    t.like(c.servers[0], { host: 'broker.local', port: 1884, clientId: 'dev-1', cleanSession: false, keepAlive: 30_000, user: 'u', pass: 'p',
        willTopic: 'status/dev-1', willMessage: 'offline', reconnectMin: 2000, reconnectMax: 60_000 })
    t.like(c.servers[0].tls, { ca: 'ca.pem', cert: 'c.pem', key: 'k.pem', verify: true })
    /* The backup inherits what it does not set; with TLS its default port is 8883 */
    t.like(c.servers[1], { host: 'backup.local', port: 8883, clientId: 'dev-1', user: 'u' })
    t.deepEqual(c.subscriptions, [{ topic: 'dev-1/cmd/#', qos: 1 }, { topic: 'all/#', qos: 0 }])
    t.is(parseConfig({ mqtt: { server: 'h' }, mqtt1: { enable: false, server: 'b' } }).servers.length, 1)
    t.is(parseConfig({ mqtt: { server: 'h' } }).servers[0].port, 1883)
})

test('Ioto keys: endpoint, port, alpn, authority, certificate, key, timeout', t => {
    const c = parseConfig({ mqtt: { endpoint: 'a1b2.iot.example.com', alpn: 'x-amzn-mqtt-ca', authority: 'aws.crt', certificate: 'd.crt', key: 'd.key', timeout: '1 min' }, device_id: 'ABC123' })
    t.like(c.servers[0], { host: 'a1b2.iot.example.com', port: 443, clientId: 'ABC123', timeout: 60_000 })
    t.like(c.servers[0].tls, { alpn: 'x-amzn-mqtt-ca', ca: 'aws.crt', cert: 'd.crt', key: 'd.key' })
    t.is(parseConfig({ mqtt: { endpoint: 'h', port: 8883 } }).servers[0].port, 8883)
    t.is(duration('t', 30), 30_000)
    t.is(duration('t', '30 secs'), 30_000)
    t.is(duration('t', '2 hr'), 7_200_000)
    t.is(duration('t', '1 day'), 86_400_000)
    t.is(duration('t', 'forever'), 0)
})

test('the offline queue, store and timing keys', t => {
    const c = parseConfig({
        mqtt: { server: 'h' }, queue: { max_messages: 50, max_bytes: 4096, overflow: 'drop-oldest', qos0_offline: 'queue' },
        store: { path: '/tmp/x.log', fsync: true }, stable_time: 5, failback_interval: 0, max_inflight: 500, connect_timeout: 3,
    })
    t.deepEqual(c.queue, { maxMessages: 50, maxBytes: 4096, overflow: 'drop-oldest', qos0Offline: 'queue' })
    t.deepEqual(c.store, { path: '/tmp/x.log', fsync: true })
    t.is(c.stableTime, 5000)
    t.is(c.failback, 0)
    t.is(c.maxInflight, 500)
    t.is(c.connectTimeout, 3000)
    t.deepEqual(parseConfig({ mqtt: { server: 'h' }, store: 'out.log' }).store, { path: 'out.log', fsync: false })
})

test('a configuration file is read; bad ones give a clear error naming the key', t => {
    const dir = mkdtempSync(join(tmpdir(), 'fiber-mqtt-config-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    writeFileSync(join(dir, 'ok.json'), JSON.stringify({ mqtt: { server: 'h:1' } }))
    writeFileSync(join(dir, 'bad.json'), '{ mqtt: ')
    t.is(parseConfig(join(dir, 'ok.json')).servers[0].port, 1)
    const cases: [unknown, RegExp][] = [
        [join(dir, 'bad.json'), /not valid JSON/],
        [join(dir, 'missing.json'), /cannot read the configuration/],
        [{}, /^mqtt: the "mqtt" section is required/],
        [{ mqtt: { server: 'h' }, extra: 1 }, /^extra: unknown key/],
        [{ mqtt: { server: 'h', keepalive: 5 } }, /^mqtt\.keepalive: unknown key/],
        [{ mqtt: { server: 'h', keep_alive: '60' } }, /^mqtt\.keep_alive: must be a number/],
        [{ mqtt: { server: 'h', clean_session: 'yes' } }, /^mqtt\.clean_session: must be a boolean/],
        [{ mqtt: { server: 'h:99999' } }, /^mqtt\.port: 99999 is not a port/],
        [{ mqtt: {} }, /^mqtt\.server: a broker is needed/],
        [{ mqtt: { server: 'h', ssl_cert: 'c' } }, /^mqtt\.ssl_key: a client certificate needs its key/],
        [{ mqtt: { server: 'h', will_topic: 't' } }, /^mqtt\.will_message: a will needs both/],
        [{ mqtt: { server: 'h', will_topic: 'dev/+/gone', will_message: 'x' } }, /^mqtt\.will_topic: .*wildcard/i],
        [{ mqtt: { server: 'h', will_topic: 'dev/gone', will_message: '' } }, /^mqtt\.will_message: a will needs both/],
        [{ mqtt: { server: 'h', client_id: 'x'.repeat(65536) } }, /^mqtt\.client_id: longer than 65535 bytes/],
        [{ mqtt: { server: 'h', client_id: '', clean_session: false } }, /^mqtt\.client_id: an empty client id needs a clean session/],
        [{ mqtt: { server: 'h', reconnect_timeout_min: 10, reconnect_timeout_max: 5 } }, /^mqtt\.reconnect_timeout_max/],
        [{ mqtt: { server: 'h', timeout: 'soon' } }, /^mqtt\.timeout: "soon" is not a duration/],
        [{ mqtt: { server: 'h' }, mqtt1: { bogus: 1 } }, /^mqtt1\.bogus: unknown key/],
        [{ mqtt: { server: 'h' }, subscriptions: 'a/#' }, /^subscriptions: must be a list/],
        [{ mqtt: { server: 'h' }, subscriptions: [{ topic: 'a', qos: 3 }] }, /^subscriptions\[0\]\.qos: must be 0, 1 or 2/],
        [{ mqtt: { server: 'h' }, queue: { overflow: 'panic' } }, /^queue\.overflow: must be/],
        [{ mqtt: { server: 'h' }, queue: { max_messages: 0 } }, /^queue\.max_messages: must be greater than 0/],
        [{ mqtt: { server: 'h' }, queue: { size: 1 } }, /^queue\.size: unknown key/],
        [{ mqtt: { server: 'h' }, store: {} }, /^store\.path: must be a file path/],
        [[], /must be an object/],
    ]
    for (const [config, pattern] of cases) {
        const err = t.throws(() => parseConfig(config as any), { instanceOf: AgentConfigError })
        t.regex(err!.message, pattern)
    }
})

test('backoff: from the minimum, doubling, to the maximum; then fail over and start again', t => {
    const b = new Backoff(2000, 60_000, () => 0)
    const waits: number[] = []
    const failovers: boolean[] = []
    for (let i = 0; i < 8; i++) {
        const { wait, failover } = b.next()
        waits.push(wait)
        failovers.push(failover)
    }
    t.deepEqual(waits, [2000, 4000, 8000, 16000, 32000, 60000, 2000, 4000])
    t.deepEqual(failovers, [false, false, false, false, false, false, true, false])
    const single = new Backoff(1000, 2000, () => 0)
    t.deepEqual([1, 2, 3, 4].map(() => single.next(false).wait), [1000, 2000, 2000, 2000])
    const jittered = new Backoff(1000, 8000, () => 1)
    t.is(jittered.next().wait, 750)
    jittered.reset()
    t.is(jittered.interval, 0)
})
