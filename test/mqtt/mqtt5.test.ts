/*
    The client speaking MQTT 5.0 (mqttSetProtocol(mq, 5, properties)): against mosquitto in MQTT 5, with
    MQTT.js in version 5 on the other end, and against scripted MQTT 5 peers for what a broker will not do on
    demand (a refused publish, a server DISCONNECT, topic aliases, a receive maximum of 1, AUTH, refusals).
 */
import test from 'ava'
import mqtt from 'mqtt'
import { rAwait, rSleep, R_ERR_BAD_ARGS, R_ERR_WONT_FIT, R_ERR_CANT_COMPLETE, R_ERR_CANT_CONNECT } from '../../runtime/index.js'
import { rCloseSocket } from '../../socket/index.js'
import {
    mqttAlloc, mqttFree, mqttGetConnackCode, mqttGetConnackProperties, mqttGetError,
    mqttIsConnected, mqttSetAuth, mqttPublish, mqttPublishEx, mqttPublishRetained, mqttRequest, mqttSetInflight, mqttSubscribeEx, mqttSetCredentials, mqttSetProtocol, mqttSubscribe, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK,
    MQTT_WAIT_NONE, MQTT_KEEP_ALIVE, type Connect5, type Mqtt, type MqttRecv, type Packet5, type Publish5,
} from '../../mqtt/index.js'
import { startAedes, startMosquitto, type Broker } from '../../brokers/broker.js'
import { ioAgent, ioAgentStats, ioAgentStop, parseConfig, type Agent } from '../../mqtt/agent/index.js'
import { inFiber } from '../helpers/fiber.js'
import { clientId, connectClient } from '../helpers/client.js'
import { scripted } from '../helpers/peer.js'
import { client5, close, connack, open5 as openOn, send, t5 } from '../helpers/mqtt5.js'
import { until } from './suite.js'
import { quietLogs } from '../helpers/quiet.js'

quietLogs(test)

let broker: Broker
test.before(async () => {
    broker = await startMosquitto({ users: { dev: 'secret' } })
})
test.after.always(async () => {
    await broker?.stop()
})

const open5 = (user = 'dev', pass = 'secret', props = {}) => openOn(broker.port, user, pass, props)

test('mosquitto in MQTT 5: connect with properties, CONNACK properties, QoS 0, 1 and 2 both ways', async t => {
    await inFiber(function* () {
        const { mq, rc } = yield* open5('dev', 'secret', { sessionExpiryInterval: 30, receiveMaximum: 50, topicAliasMaximum: 4, userProperties: [['app', 'test']] })
        t.is(rc, 0, mqttGetError(mq) ?? '')
        t.is(mqttGetConnackCode(mq), 0)
        t.is(typeof mqttGetConnackProperties(mq), 'object')
        const got: string[] = []
        t.is(yield* mqttSubscribe(mq, (rp: MqttRecv) => { got.push(`${rp.topic} ${rp.text} ${rp.qos}`) }, 2, MQTT_WAIT_ACK, 'v5/#'), 0)
        for (const qos of [0, 1, 2]) {
            t.is(yield* mqttPublish(mq, `m${qos}`, 0, qos, MQTT_WAIT_ACK, 'v5/q'), 0)
        }
        t.true(yield* until(() => got.length === 3))
        t.deepEqual(got, ['v5/q m0 0', 'v5/q m1 1', 'v5/q m2 2'])
        yield* close(mq)
    })
})

test('mosquitto in MQTT 5: a bad password is refused with the 5.0 reason', async t => {
    await inFiber(function* () {
        const { mq, rc } = yield* open5('dev', 'wrong')
        t.is(rc, R_ERR_CANT_CONNECT)
        t.true([0x86, 0x87].includes(mqttGetConnackCode(mq)))
        t.regex(mqttGetError(mq) ?? '', /(Bad User Name or Password|Not authorized) \(CONNACK 0x8[67]\)/)
        yield* mqttFree(mq)
    })
})

test('a broker that speaks 3.1.1 only (aedes) refuses an MQTT 5 client: Unsupported Protocol Version, not a protocol error', async t => {
    const old = await startAedes()
    try {
        await inFiber(function* () {
            const { mq, rc } = yield* openOn(old.port, null)
            t.is(rc, R_ERR_CANT_CONNECT)
            t.is(mqttGetConnackCode(mq), 0x84)
            t.is(mqttGetError(mq), 'Unsupported Protocol Version (CONNACK 0x84)')
            yield* mqttFree(mq)
        })
    } finally {
        await old.stop()
    }
})

test('interop in MQTT 5 through mosquitto: MQTT.js (version 5, with properties) and fiber-mqtt each publish, the other receives', async t => {
    const other = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { protocolVersion: 5, clientId: clientId('js5'), username: 'dev', password: 'secret', reconnectPeriod: 0 })
    const theirs: string[] = []
    other.on('message', (topic, payload) => theirs.push(`${topic} ${payload}`))
    await other.subscribeAsync('i5/to-js', { qos: 1 })
    try {
        await inFiber(function* () {
            const { mq } = yield* open5()
            const ours: string[] = []
            let props: MqttRecv['properties'] = null
            yield* mqttSubscribe(mq, (rp: MqttRecv) => { ours.push(`${rp.topic} ${rp.text}`); props = rp.properties }, 1, MQTT_WAIT_ACK, 'i5/to-fiber')
            yield* rAwait(other.publishAsync('i5/to-fiber', 'from MQTT.js', { qos: 1, properties: { userProperties: { k: 'v' }, contentType: 'text/plain', messageExpiryInterval: 60 } }))
            t.is(yield* mqttPublish(mq, 'from fiber-mqtt', 0, 1, MQTT_WAIT_ACK, 'i5/to-js'), 0)
            t.true(yield* until(() => ours.length === 1 && theirs.length === 1))
            t.deepEqual(ours, ['i5/to-fiber from MQTT.js'])
            /* Its properties come with it (the broker may lower the expiry it forwards) */
            t.like(props, { contentType: 'text/plain', userProperties: [['k', 'v']] })
            t.true(props!.messageExpiryInterval! > 0 && props!.messageExpiryInterval! <= 60)
            t.deepEqual(theirs, ['i5/to-js from fiber-mqtt'])
            yield* close(mq)
        })
    } finally {
        await other.endAsync()
    }
})

test('mqttSetProtocol: versions other than 4 and 5, and properties CONNECT may not carry, are R_ERR_BAD_ARGS', t => {
    const mq = mqttAlloc('p', null)!
    t.is(mqttSetProtocol(null, 5), R_ERR_BAD_ARGS)
    t.is(mqttSetProtocol(mq, 3), R_ERR_BAD_ARGS)
    t.regex(mqttGetError(mq) ?? '', /4 \(MQTT 3.1.1\) or 5 \(MQTT 5.0\)/)
    t.is(mqttSetProtocol(mq, 5, { topicAlias: 1 }), R_ERR_BAD_ARGS)
    t.regex(mqttGetError(mq) ?? '', /topicAlias may not appear in CONNECT/)
    t.is(mqttSetProtocol(mq, 5, { receiveMaximum: 0 }), R_ERR_BAD_ARGS)
    t.is(mqttSetProtocol(mq, 5), 0)
    t.is(mqttSetProtocol(mq, 4), 0)
    t.is(mq.cfg.v5, null)
})

test('scripted: a PUBACK or PUBREC with a failure reason fails the publish with the broker\'s words; the connection stays', async t => {
    await inFiber(function* () {
        const { port, listener } = yield* scripted(function* (peer) {
            const c = (yield* peer.expect(1)) as unknown as Connect5
            t.is(c.protocolLevel, 5)
            yield* connack(peer)
            const p1 = (yield* peer.expect(3)) as unknown as Publish5
            yield* send(peer, { type: 4, id: p1.id, reasonCode: 0x87, properties: { reasonString: 'topic is read-only' } })
            const p2 = (yield* peer.expect(3)) as unknown as Publish5
            yield* send(peer, { type: 5, id: p2.id, reasonCode: 0x97, properties: {} })
            const p3 = (yield* peer.expect(3)) as unknown as Publish5
            yield* send(peer, { type: 4, id: p3.id, reasonCode: 0x10, properties: {} })
            yield* peer.next(3000)
        }, 5)
        const mq = yield* client5(port)
        t.is(yield* mqttPublish(mq, 'x', 0, 1, MQTT_WAIT_ACK, 'ro/t'), R_ERR_CANT_COMPLETE)
        t.regex(mqttGetError(mq) ?? '', /Publish to "ro\/t" refused by the broker: Not authorized \(PUBACK 0x87\): topic is read-only/)
        t.is(yield* mqttPublish(mq, 'x', 0, 2, MQTT_WAIT_ACK, 'q/t'), R_ERR_CANT_COMPLETE)
        t.regex(mqttGetError(mq) ?? '', /Quota exceeded \(PUBREC 0x97\)/)
        /* "No matching subscribers" is a success */
        t.is(yield* mqttPublish(mq, 'x', 0, 1, MQTT_WAIT_ACK, 'ok/t'), 0)
        t.true(mqttIsConnected(mq))
        rCloseSocket(mq.sock)
        rCloseSocket(listener)
    })
})

test('scripted: the server\'s DISCONNECT with a reason ends the connection with its words', async t => {
    await inFiber(function* () {
        const { port, listener } = yield* scripted(function* (peer) {
            yield* peer.expect(1)
            yield* connack(peer)
            yield* send(peer, { type: 14, reasonCode: 0x9c, properties: { reasonString: 'maintenance', serverReference: 'b2.example:1883' } })
            yield* peer.next(2000)
        }, 5)
        const mq = yield* client5(port)
        t.true(yield* until(() => !mqttIsConnected(mq)))
        t.regex(mqttGetError(mq) ?? '', /The broker disconnected: Use another server \(DISCONNECT 0x9c\): maintenance \(use another server: b2.example:1883\)/)
        rCloseSocket(mq.sock)
        rCloseSocket(listener)
    })
})

test('scripted: topic aliases from the server resolve; one over the maximum or never set ends the connection', async t => {
    await inFiber(function* () {
        const { port, listener } = yield* scripted(function* (peer, index) {
            yield* peer.expect(1)
            yield* connack(peer)
            const s = yield* peer.expect(8)
            yield* send(peer, { type: 9, id: (s as { id: number }).id, reasonCodes: [0], properties: {} })
            const pub = (topic: string, alias: number, text: string): Packet5 =>
                ({ type: 3, dup: false, qos: 0, retain: false, topic, id: 0, payload: new TextEncoder().encode(text), properties: { topicAlias: alias } })
            if (index === 0) {
                yield* send(peer, pub('x/y', 1, 'first'))
                yield* send(peer, pub('', 1, 'second'))
                yield* send(peer, pub('x/z', 2, 'third'))
                yield* send(peer, pub('', 2, 'fourth'))
            } else if (index === 1) {
                yield* send(peer, pub('x/y', 3, 'over'))
            } else {
                yield* send(peer, pub('', 2, 'unknown'))
            }
            yield* peer.next(2000)
        }, 5)
        for (const [i, want] of [[0, null], [1, /Topic Alias 3 over the maximum this client allows \(2\) \[MQTT-3.3.2-10\]/], [2, /Topic Alias 2 was never set/]] as const) {
            const mq = yield* client5(port, { topicAliasMaximum: 2 })
            const got: string[] = []
            yield* mqttSubscribe(mq, (rp: MqttRecv) => { got.push(`${rp.topic} ${rp.text}`) }, 0, MQTT_WAIT_ACK, 'x/#')
            if (want === null) {
                t.true(yield* until(() => got.length === 4), `${i}: ${got.join('; ')}`)
                t.deepEqual(got, ['x/y first', 'x/y second', 'x/z third', 'x/z fourth'])
            } else {
                t.true(yield* until(() => !mqttIsConnected(mq)))
                t.regex(mqttGetError(mq) ?? '', want)
                t.deepEqual(got, [])
            }
            rCloseSocket(mq.sock)
        }
        rCloseSocket(listener)
    })
})

test('scripted: the server\'s Receive Maximum of 1 is the window: one QoS 1 PUBLISH in flight at a time', async t => {
    await inFiber(function* () {
        let overlapped = false
        const { port, listener } = yield* scripted(function* (peer) {
            yield* peer.expect(1)
            yield* connack(peer, { receiveMaximum: 1 })
            for (let i = 0; i < 3; i++) {
                const p = (yield* peer.expect(3)) as unknown as Publish5
                /* Nothing else may come before this one is acknowledged */
                const early = yield* peer.next(150)
                if (early !== null) overlapped = true
                yield* send(peer, { type: 4, id: p.id, reasonCode: 0, properties: {} })
            }
            yield* peer.next(2000)
        }, 5)
        const mq = yield* client5(port)
        t.deepEqual(mqttGetConnackProperties(mq), { receiveMaximum: 1 })
        for (let i = 0; i < 2; i++) {
            t.is(yield* mqttPublish(mq, `m${i}`, 0, 1, MQTT_WAIT_NONE, 'rm/t'), 0)
        }
        t.is(yield* mqttPublish(mq, 'm2', 0, 1, MQTT_WAIT_ACK, 'rm/t'), 0)
        t.false(overlapped)
        rCloseSocket(mq.sock)
        rCloseSocket(listener)
    })
})

test('scripted: a CONNACK refusal names the reason and the reason string; an AUTH nobody asked for is refused', async t => {
    await inFiber(function* () {
        const { port, listener } = yield* scripted(function* (peer, index) {
            yield* peer.expect(1)
            if (index === 0) {
                yield* send(peer, { type: 2, sessionPresent: false, reasonCode: 0x8a, properties: { reasonString: 'you are banned' } })
            } else {
                yield* send(peer, { type: 15, reasonCode: 0x18, properties: { authenticationMethod: 'SCRAM-SHA-1' } })
            }
            yield* peer.next(2000)
        }, 5)
        const banned = yield* client5(port)
        t.is(mqttGetConnackCode(banned), 0x8a)
        t.regex(mqttGetError(banned) ?? '', /Banned \(CONNACK 0x8a\): you are banned/)
        rCloseSocket(banned.sock)
        const auth = yield* client5(port)
        t.false(mqttIsConnected(auth))
        t.regex(mqttGetError(auth) ?? '', /AUTH from the broker: no enhanced authentication was asked for/)
        rCloseSocket(auth.sock)
        rCloseSocket(listener)
    })
})

test('scripted: the server\'s Maximum Packet Size fails a larger publish locally; its Server Keep Alive replaces the client\'s', async t => {
    await inFiber(function* () {
        const seen: number[] = []
        const { port, listener } = yield* scripted(function* (peer) {
            yield* peer.expect(1)
            yield* connack(peer, { maximumPacketSize: 100, serverKeepAlive: 1 })
            for (let p = yield* peer.next(4000); p !== null; p = yield* peer.next(4000)) {
                seen.push(p.type)
                if (p.type === 3) yield* send(peer, { type: 4, id: (p as unknown as Publish5).id, reasonCode: 0, properties: {} })
                if (p.type === 12) yield* peer.send([0xd0, 0])
                if (seen.filter(x => x === 12).length >= 2) break
            }
        }, 5)
        const mq = yield* client5(port)
        t.is(mq.keepAlive, MQTT_KEEP_ALIVE, 'the client\'s own setting is left as it was')
        t.is(yield* mqttPublish(mq, new Uint8Array(200), 200, 1, MQTT_WAIT_ACK, 'big'), R_ERR_WONT_FIT)
        t.regex(mqttGetError(mq) ?? '', /over the broker's Maximum Packet Size of 100 \[MQTT-3.2.2-15\]/)
        t.is(yield* mqttPublish(mq, new Uint8Array(50), 50, 1, MQTT_WAIT_ACK, 'small'), 0)
        /* Pings at the server's 1 s keep-alive, not the client's 60 s */
        t.true(yield* until(() => seen.filter(x => x === 12).length >= 2, 5000), seen.join(','))
        t.deepEqual(seen.filter(x => x === 3).length, 1)
        rCloseSocket(mq.sock)
        rCloseSocket(listener)
    })
})

test('mosquitto in MQTT 5: a shared subscription ($share/group/filter) gets its messages in its callback; a group shares them', async t => {
    await inFiber(function* () {
        const a = (yield* open5()).mq
        const b = (yield* open5()).mq
        const got: string[] = []
        for (const [name, mq] of [['a', a], ['b', b]] as const) {
            t.is(yield* mqttSubscribe(mq, (rp: MqttRecv) => { got.push(`${name} ${rp.topic}`) }, 1, MQTT_WAIT_ACK, '$share/g1/sh/#'), 0)
        }
        for (let i = 0; i < 10; i++) {
            t.is(yield* mqttPublish(a, `m${i}`, 0, 1, MQTT_WAIT_ACK, `sh/${i}`), 0)
        }
        t.true(yield* until(() => got.length === 10), got.join('; '))
        /* Each message once, to one member of the group */
        t.deepEqual(got.map(g => g.split(' ')[1]).sort(), Array.from({ length: 10 }, (_, i) => `sh/${i}`).sort())
        yield* close(a)
        yield* close(b)
    })
})

test('mqttPublishEx: message properties reach MQTT.js and our own subscriber, queued or not; what may not be sent is R_ERR_BAD_ARGS', async t => {
    const other = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { protocolVersion: 5, clientId: clientId('js5p'), username: 'dev', password: 'secret', reconnectPeriod: 0 })
    const theirs: Record<string, unknown>[] = []
    other.on('message', (_topic, _payload, packet) => theirs.push(packet.properties as Record<string, unknown>))
    await other.subscribeAsync('px/#', { qos: 1 })
    try {
        await inFiber(function* () {
            const { mq } = yield* open5()
            mqttSetInflight(mq, 1)
            const ours: MqttRecv['properties'][] = []
            yield* mqttSubscribe(mq, (rp: MqttRecv) => { ours.push(rp.properties) }, 1, MQTT_WAIT_ACK, 'px/#')
            const properties = {
                contentType: 'application/json', payloadFormatIndicator: 1, messageExpiryInterval: 120, responseTopic: 'px/reply',
                correlationData: Uint8Array.of(1, 2, 3), userProperties: [['trace', 'abc'], ['trace', 'def']] as [string, string][],
            }
            /* Three at once through a window of one: two of them wait in the queue with their properties */
            for (let i = 0; i < 3; i++) {
                t.is(yield* mqttPublishEx(mq, `{"n":${i}}`, 0, 1, i < 2 ? MQTT_WAIT_NONE : MQTT_WAIT_ACK, { properties }, 'px/%d', i), 0)
            }
            t.is(yield* mqttPublishEx(mq, 'retained', 0, 0, MQTT_WAIT_NONE, { retain: true, properties: { contentType: 'text/plain' } }, 'px/r'), 0)
            t.true(yield* until(() => ours.length === 4 && theirs.length === 4))
            for (const p of ours.slice(0, 3)) {
                t.like(p, { contentType: 'application/json', payloadFormatIndicator: 1, responseTopic: 'px/reply', userProperties: [['trace', 'abc'], ['trace', 'def']] })
                t.deepEqual([...p!.correlationData!], [1, 2, 3])
            }
            for (const p of theirs.slice(0, 3)) {
                t.like(p, { contentType: 'application/json', payloadFormatIndicator: true, responseTopic: 'px/reply', userProperties: { trace: ['abc', 'def'] } })
            }
            t.like(theirs[3], { contentType: 'text/plain' })
            const bad: [object, RegExp][] = [
                [{ topicAlias: 1 }, /Topic Alias is not taken from the caller/],
                [{ subscriptionIdentifiers: [1] }, /\[MQTT-3.3.4-6\]/],
                [{ sessionExpiryInterval: 5 }, /sessionExpiryInterval may not appear in PUBLISH/],
                [{ payloadFormatIndicator: 1 }, /marked as UTF-8/],
            ]
            for (const [props, message] of bad) {
                t.is(yield* mqttPublishEx(mq, Uint8Array.of(0xff, 0xfe), 2, 1, MQTT_WAIT_ACK, { properties: props }, 'px/bad'), R_ERR_BAD_ARGS)
                t.regex(mqttGetError(mq) ?? '', message)
            }
            t.true(mqttIsConnected(mq))
            yield* mqttPublishEx(mq, '', 0, 0, MQTT_WAIT_NONE, { retain: true }, 'px/r')
            yield* close(mq)
            const old = mqttAlloc('v3', null)!
            t.is(yield* mqttPublishEx(old, 'x', 0, 0, MQTT_WAIT_NONE, { properties: { contentType: 'a' } }, 't'), R_ERR_BAD_ARGS)
            t.regex(mqttGetError(old) ?? '', /need MQTT 5/)
        })
    } finally {
        await other.endAsync()
    }
})

test('mqttRequest over MQTT 5: any responder answers from the Response Topic and Correlation Data alone', async t => {
    const responder = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { protocolVersion: 5, clientId: clientId('resp'), username: 'dev', password: 'secret', reconnectPeriod: 0 })
    responder.on('message', (_topic, payload, packet) => {
        const p = packet.properties ?? {}
        if (p.responseTopic) {
            /* A wrong answer first (another request's correlation data), then the right one */
            responder.publish(p.responseTopic, 'wrong', { qos: 1, properties: { correlationData: Buffer.from('0') } })
            responder.publish(p.responseTopic, `echo ${payload}`, { qos: 1, properties: { correlationData: p.correlationData } })
        }
    })
    await responder.subscribeAsync('ioto/service/#', { qos: 1 })
    try {
        await inFiber(function* () {
            const { mq } = yield* open5()
            t.is(yield* mqttRequest(mq, 'ping', 5000, 'svc/echo'), 'echo ping')
            t.is(yield* mqttRequest(mq, 'again', 5000, 'svc/echo'), 'echo again')
            yield* close(mq)
        })
    } finally {
        await responder.endAsync()
    }
})

test('the agent in MQTT 5 (protocol: 5, session_expiry): connects, publishes, and follows a "server moved" to the Server Reference', async t => {
    await inFiber(function* () {
        /* The configured server refuses with 0x9d and a Server Reference to mosquitto */
        const { port, listener } = yield* scripted(function* (peer) {
            const c = (yield* peer.expect(1)) as unknown as Connect5
            t.is(c.properties.sessionExpiryInterval, 300)
            yield* send(peer, { type: 2, sessionPresent: false, reasonCode: 0x9d, properties: { serverReference: `127.0.0.1:${broker.port}` } })
            yield* peer.next(1000)
        }, 5)
        const { mq: watcher } = yield* open5()
        const got: string[] = []
        yield* mqttSubscribe(watcher, (rp: MqttRecv) => { got.push(rp.text) }, 1, MQTT_WAIT_ACK, 'agent5/#')
        const agent = ioAgent({ mqtt: { server: `127.0.0.1:${port}`, client_id: clientId('agent5'), user: 'dev', pass: 'secret', protocol: 5,
            session_expiry: 300, keep_alive: 5, reconnect_timeout_min: 0.05, reconnect_timeout_max: 0.2 } }, {
            ioStart: function* (a: Agent) {
                yield* mqttPublish(a.mqtt, 'moved and connected', 0, 1, MQTT_WAIT_ACK, 'agent5/hello')
            },
        })
        t.true(yield* until(() => got.length === 1, 10_000), JSON.stringify(agent.attempts))
        t.deepEqual(got, ['moved and connected'])
        t.regex(agent.attempts[0].error, /Server moved \(CONNACK 0x9d\)/)
        t.is(agent.attempts[1].server, `127.0.0.1:${broker.port}`)
        t.is(ioAgentStats(agent).connected, true)
        yield* ioAgentStop(agent)
        yield* close(watcher)
        rCloseSocket(listener)
    })
})

test('agent configuration: protocol 4 or 5; a session expiry needs 5', t => {
    t.throws(() => parseConfig({ mqtt: { server: 'h:1', client_id: 'a', protocol: 3 } }), { message: /protocol 3: 4 \(MQTT 3.1.1\) or 5/ })
    t.throws(() => parseConfig({ mqtt: { server: 'h:1', client_id: 'a', session_expiry: 10 } }), { message: /needs protocol 5/ })
    t.like(parseConfig({ mqtt: { server: 'h:1', client_id: 'a', protocol: 5, session_expiry: 10 } }).servers[0], { protocol: 5, sessionExpiry: 10 })
})

test('mqttSubscribeEx in MQTT 5 (mosquitto): No Local, Retain Handling, Retain As Published, and a Subscription Identifier routing to its callback', async t => {
    await inFiber(function* () {
        const { mq } = yield* open5()
        const { mq: other } = yield* open5()
        const seen: string[] = []
        const note = (name: string) => (rp: MqttRecv) => { seen.push(`${name} ${rp.topic} ${rp.text} retain=${rp.retain}`) }
        /* No Local: our own message does not come back on this subscription; another client's does */
        t.is(yield* mqttSubscribeEx(mq, note('nl'), 1, MQTT_WAIT_ACK, { noLocal: true }, 'nl/#'), 0)
        yield* mqttPublish(mq, 'mine', 0, 1, MQTT_WAIT_ACK, 'nl/a')
        yield* mqttPublish(other, 'theirs', 0, 1, MQTT_WAIT_ACK, 'nl/a')
        /* Retain Handling 2: no retained message at subscribe; 0: the retained message comes */
        yield* mqttPublishRetained(other, 'kept', 0, 1, MQTT_WAIT_ACK, 'rh2/a')
        yield* mqttPublishRetained(other, 'kept', 0, 1, MQTT_WAIT_ACK, 'rh0/a')
        t.is(yield* mqttSubscribeEx(mq, note('rh2'), 1, MQTT_WAIT_ACK, { retainHandling: 2 }, 'rh2/#'), 0)
        t.is(yield* mqttSubscribeEx(mq, note('rh0'), 1, MQTT_WAIT_ACK, { retainHandling: 0 }, 'rh0/#'), 0)
        /* Retain As Published: a retained publish keeps its flag on this subscription */
        t.is(yield* mqttSubscribeEx(mq, note('rap'), 1, MQTT_WAIT_ACK, { retainAsPublished: true }, 'rap/#'), 0)
        yield* mqttPublishRetained(other, 'flagged', 0, 1, MQTT_WAIT_ACK, 'rap/a')
        /* A Subscription Identifier: the message goes to its callback, though 'si/#' was subscribed first */
        t.is(yield* mqttSubscribe(mq, note('first'), 1, MQTT_WAIT_ACK, 'si/#'), 0)
        t.is(yield* mqttSubscribeEx(mq, note('byId'), 1, MQTT_WAIT_ACK, { subscriptionIdentifier: 7 }, 'si/+/x'), 0)
        yield* mqttPublish(other, 'routed', 0, 1, MQTT_WAIT_ACK, 'si/a/x')
        yield* mqttPublish(other, 'plain', 0, 1, MQTT_WAIT_ACK, 'si/b')
        t.true(yield* until(() => seen.length >= 6), seen.join('; '))
        yield* rSleep(200)
        t.deepEqual(seen.filter(s => s.startsWith('nl ')), ['nl nl/a theirs retain=false'])
        t.deepEqual(seen.filter(s => s.startsWith('rh')), ['rh0 rh0/a kept retain=true'])
        t.deepEqual(seen.filter(s => s.startsWith('rap ')), ['rap rap/a flagged retain=true'])
        t.true(seen.includes('byId si/a/x routed retain=false'), seen.join('; '))
        t.true(seen.includes('first si/b plain retain=false'), seen.join('; '))
        /* mosquitto sends a copy per overlapping subscription: the one with the identifier went to its callback */
        t.is(seen.filter(s => s === 'byId si/a/x routed retain=false').length, 1)
        const bad: [object, string, RegExp][] = [
            [{ retainHandling: 3 }, 'x', /Retain Handling 3/],
            [{ subscriptionIdentifier: 0 }, 'x', /Subscription Identifier 0/],
            [{ noLocal: true }, '$share/g/x', /No Local on a shared subscription/],
        ]
        for (const [o, f, message] of bad) {
            t.is(yield* mqttSubscribeEx(mq, note('bad'), 0, MQTT_WAIT_ACK, o, f), R_ERR_BAD_ARGS)
            t.regex(mqttGetError(mq) ?? '', message)
        }
        const old = mqttAlloc('v3s', null)!
        t.is(yield* mqttSubscribeEx(old, null, 0, MQTT_WAIT_ACK, { noLocal: true }, 'x'), R_ERR_BAD_ARGS)
        yield* mqttPublishRetained(other, '', 0, 1, MQTT_WAIT_ACK, 'rh2/a')
        yield* mqttPublishRetained(other, '', 0, 1, MQTT_WAIT_ACK, 'rh0/a')
        yield* mqttPublishRetained(other, '', 0, 1, MQTT_WAIT_ACK, 'rap/a')
        yield* close(mq)
        yield* close(other)
    })
})

test('outbound topic aliases: QoS 0 topics get the server\'s aliases on first use, then go as two bytes; QoS 1 keeps its topic', async t => {
    await inFiber(function* () {
        const wire: string[] = []
        const { port, listener } = yield* scripted(function* (peer) {
            yield* peer.expect(1)
            yield* connack(peer, { topicAliasMaximum: 2 })
            for (let p = yield* peer.next(3000); p !== null; p = yield* peer.next(3000)) {
                const pub = p as unknown as Publish5
                if (p.type !== 3) continue
                wire.push(`${pub.topic || '-'} ${pub.properties.topicAlias ?? 'none'} q${pub.qos}`)
                if (pub.qos === 1) {
                    yield* send(peer, { type: 4, id: pub.id, reasonCode: 0, properties: {} })
                    break
                }
            }
        }, 5)
        const mq = yield* client5(port)
        for (const topic of ['devices/0123456789/telemetry', 'devices/0123456789/telemetry', 'b', 'devices/0123456789/telemetry', 'b', 'c']) {
            t.is(yield* mqttPublish(mq, 'x', 0, 0, MQTT_WAIT_NONE, topic), 0)
        }
        t.is(yield* mqttPublish(mq, 'x', 0, 1, MQTT_WAIT_ACK, 'devices/0123456789/telemetry'), 0)
        t.deepEqual(wire, [
            'devices/0123456789/telemetry 1 q0', '- 1 q0', 'b 2 q0', '- 1 q0', '- 2 q0', 'c none q0', 'devices/0123456789/telemetry none q1',
        ])
        rCloseSocket(mq.sock)
        rCloseSocket(listener)
    })
})

test('outbound topic aliases through mosquitto: every message arrives on its own topic', async t => {
    await inFiber(function* () {
        const { mq } = yield* open5()
        const { mq: sub } = yield* open5()
        t.true((mqttGetConnackProperties(mq)?.topicAliasMaximum ?? 0) > 0)
        const got: string[] = []
        yield* mqttSubscribe(sub, (rp: MqttRecv) => { got.push(`${rp.topic} ${rp.text}`) }, 0, MQTT_WAIT_ACK, 'alias/#')
        const sent: string[] = []
        for (let i = 0; i < 30; i++) {
            const topic = `alias/${i % 3}/long/topic/name`
            sent.push(`${topic} m${i}`)
            yield* mqttPublish(mq, `m${i}`, 0, 0, MQTT_WAIT_NONE, topic)
        }
        t.true(yield* until(() => got.length === 30), got.join('; '))
        t.deepEqual(got, sent)
        yield* close(mq)
        yield* close(sub)
    })
})

test('scripted: enhanced authentication: the method in CONNECT, each challenge answered by the proc, then the CONNACK', async t => {
    await inFiber(function* () {
        const enc = (s: string) => new TextEncoder().encode(s)
        const dec = (b: Uint8Array | undefined) => b === undefined ? '' : new TextDecoder().decode(b)
        const { port, listener } = yield* scripted(function* (peer, index) {
            const c = (yield* peer.expect(1)) as unknown as Connect5
            t.is(c.properties.authenticationMethod, 'CHALLENGE-1')
            t.is(dec(c.properties.authenticationData), 'client-first')
            for (const nonce of ['n1', 'n2']) {
                yield* send(peer, { type: 15, reasonCode: 0x18, properties: { authenticationMethod: 'CHALLENGE-1', authenticationData: enc(nonce) } })
                const a = (yield* peer.expect(15)) as unknown as Packet5 & { reasonCode: number, properties: { authenticationData?: Uint8Array } }
                if (a === null) return
                t.is(a.reasonCode, 0x18)
                t.is(dec(a.properties.authenticationData), `signed ${nonce}`)
                if (index === 1) break
            }
            if (index === 0) {
                yield* connack(peer, { authenticationMethod: 'CHALLENGE-1' })
            }
            yield* peer.next(2000)
        }, 5)
        const answers: string[] = []
        const make = (giveUpAfter: number) => (mq: Mqtt) => {
            t5(mqttSetProtocol(mq, 5))
            t.is(mqttSetAuth(mq, 'CHALLENGE-1', enc('client-first'), (_mq, data) => {
                answers.push(dec(data ?? undefined))
                return answers.length > giveUpAfter ? null : enc(`signed ${dec(data ?? undefined)}`)
            }), 0)
        }
        const ok = (yield* connectClient(port, { prepare: make(10), allowFailure: true })).mq
        t.true(mqttIsConnected(ok), mqttGetError(ok) ?? '')
        t.deepEqual(answers, ['n1', 'n2'])
        rCloseSocket(ok.sock)
        answers.length = 0
        const given = (yield* connectClient(port, { prepare: make(0), allowFailure: true })).mq
        t.false(mqttIsConnected(given))
        t.regex(mqttGetError(given) ?? '', /Authentication given up/)
        rCloseSocket(given.sock)
        const v3 = mqttAlloc('auth3', null)!
        t.is(mqttSetAuth(v3, 'X', null, null), R_ERR_BAD_ARGS)
        rCloseSocket(listener)
    })
})

test('the promise facade in MQTT 5: mqttPublishExAsync and mqttSubscribeExAsync', async t => {
    const { mqttConnectUrlAsync, mqttPublishExAsync, mqttSubscribeExAsync, mqttDisconnectAsync, mqttFreeAsync } = await import('../../mqtt/promise.js')
    const mq = mqttAlloc(clientId('p5'), null)!
    mqttSetProtocol(mq, 5)
    mqttSetCredentials(mq, 'dev', 'secret')
    t.is(await mqttConnectUrlAsync(mq, `mqtt://127.0.0.1:${broker.port}`, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK), 0)
    const got: string[] = []
    t.is(await mqttSubscribeExAsync(mq, (rp: MqttRecv) => { got.push(`${rp.text} ${rp.properties?.contentType}`) }, 1, MQTT_WAIT_ACK, { retainHandling: 0 }, 'pa/#'), 0)
    t.is(await mqttPublishExAsync(mq, 'hello', 0, 1, MQTT_WAIT_ACK, { properties: { contentType: 'text/plain' } }, 'pa/%s', 'x'), 0)
    const deadline = Date.now() + 5000
    while (got.length === 0 && Date.now() < deadline) await new Promise(r => setTimeout(r, 20))
    t.deepEqual(got, ['hello text/plain'])
    const sock = mq.sock
    await mqttDisconnectAsync(mq)
    await mqttFreeAsync(mq)
    rCloseSocket(sock)
})
