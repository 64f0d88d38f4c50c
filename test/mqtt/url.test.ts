import test from 'ava'
import { maskUrl, MqttUrlError, parseMqttUrl } from '../../mqtt/index.js'
import { parseConfig } from '../../mqtt/agent/index.js'
import { quietLogs } from '../helpers/quiet.js'

quietLogs(test)

test('broker URLs: schemes, default ports, credentials, IPv6, topics with wildcards', t => {
    t.deepEqual(parseMqttUrl('mqtt://broker.local'), { tls: false, host: 'broker.local', port: 1883, username: null, password: null, topic: null, websocket: null })
    t.deepEqual(parseMqttUrl('mqtts://broker.local'), { tls: true, host: 'broker.local', port: 8883, username: null, password: null, topic: null, websocket: null })
    t.like(parseMqttUrl('tcp://h:1884'), { tls: false, port: 1884 })
    t.like(parseMqttUrl('ssl://h'), { tls: true, port: 8883 })
    t.like(parseMqttUrl('TLS://h:443'), { tls: true, port: 443 })
    t.like(parseMqttUrl('mqtt://dev%2D1:p%40ss%3Aw0rd@h/t'), { username: 'dev-1', password: 'p@ss:w0rd', topic: 't' })
    t.like(parseMqttUrl('mqtt://user@h'), { username: 'user', password: null })
    t.like(parseMqttUrl('mqtt://:@h'), { username: '', password: '' })
    t.like(parseMqttUrl('mqtt://[::1]:1884/a'), { host: '::1', port: 1884, topic: 'a' })
    t.like(parseMqttUrl('mqtt://[fe80::1]'), { host: 'fe80::1', port: 1883 })
    t.like(parseMqttUrl('mqtt://h/alerts/#'), { topic: 'alerts/#' })
    t.like(parseMqttUrl('mqtt://h/sensors/+/temp'), { topic: 'sensors/+/temp' })
    t.like(parseMqttUrl('mqtt://h/a/b?c'), { topic: 'a/b?c' })
    t.like(parseMqttUrl('mqtt://h/'), { topic: null })
    /* WebSocket: the path is the HTTP path, not a topic */
    t.deepEqual(parseMqttUrl('ws://broker.local'), { tls: false, host: 'broker.local', port: 80, username: null, password: null, topic: null, websocket: '/mqtt' })
    t.like(parseMqttUrl('wss://u:p@h/'), { tls: true, port: 443, websocket: '/', username: 'u', password: 'p', topic: null })
    t.like(parseMqttUrl('WSS://h:8084/mqtt/v1?token=x'), { tls: true, port: 8084, websocket: '/mqtt/v1?token=x' })
    t.throws(() => parseMqttUrl('ws://h/a b'), { instanceOf: MqttUrlError, message: /Bad WebSocket path/ })
})

test('bad URLs get a clear error that never shows the password', t => {
    for (const [url, message] of [
        ['http://h/t', /Unsupported URL scheme "http"/],
        ['broker:1883', /Not a URL/],
        ['mqtt://', /No host/],
        ['mqtt://h:0', /Bad port "0"/],
        ['mqtt://h:65536', /Bad port "65536"/],
        ['mqtt://h:12x', /Bad port "12x"/],
        ['mqtt://::1:1883', /IPv6 address goes in brackets/],
        ['mqtt://[::1', /Unclosed "\["/],
        ['mqtt://[::1]x', /Unexpected "x"/],
        ['mqtt://u:secret%zz@h', /Bad password encoding/],
        ['mqtt://u:secret@h:99999', /Bad port/],
    ] as const) {
        const err = t.throws(() => parseMqttUrl(url), { instanceOf: MqttUrlError })
        t.regex(err!.message, message, url)
        t.false(err!.message.includes('secret'), err!.message)
    }
    t.is(maskUrl('mqtts://dev:secret@h:8883/t'), 'mqtts://dev:***@h:8883/t')
    t.is(maskUrl('mqtt://h/t'), 'mqtt://h/t')
})

test('the agent takes a URL as its server: host, port, TLS and credentials from it', t => {
    const c = parseConfig({ mqtt: { server: 'mqtts://dev-1:tok%2Fen@broker.example.com:8884', client_id: 'dev-1' } })
    t.like(c.servers[0], { host: 'broker.example.com', port: 8884, user: 'dev-1', pass: 'tok/en' })
    t.like(c.servers[0].tls, { verify: true, ca: null })
    const plain = parseConfig({ mqtt: { server: 'mqtt://127.0.0.1', user: 'own', client_id: 'x' } })
    t.like(plain.servers[0], { host: '127.0.0.1', port: 1883, user: 'own', tls: null })
    const named = parseConfig({ mqtt: { server: 'ssl://10.0.0.7', client_id: 'x', server_name: 'broker.example.com' } })
    t.like(named.servers[0], { host: '10.0.0.7', port: 8883 })
    t.is(named.servers[0].tls?.serverName, 'broker.example.com')
    t.throws(() => parseConfig({ mqtt: { server: 'mqtt://u:hidden@h:0' } }), { message: /^mqtt\.server: Bad port "0" in "mqtt:\/\/u:\*\*\*@h:0"/ })
})
