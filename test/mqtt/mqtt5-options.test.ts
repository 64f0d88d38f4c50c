/*
    MQTT 5.0 properties on the packets around a message: the will's (mqttSetWill's properties: Will Delay
    Interval and the message properties), DISCONNECT's reason and properties (mqttDisconnectEx), and the User
    Properties of SUBSCRIBE (mqttSubscribeEx) and UNSUBSCRIBE (mqttUnsubscribeEx). Against mosquitto in MQTT 5
    and a scripted MQTT 5 peer that records the bytes.
 */
import test, { type ExecutionContext } from 'ava'
import { rAwait, rSleep, R_ERR_BAD_ARGS, R_ERR_BUSY, R_ERR_NOT_CONNECTED, R_ERR_TIMEOUT, type Fiber } from '../../runtime/index.js'
import { rAllocSocket, rCloseSocket, rConnectSocket } from '../../socket/index.js'
import {
    mqttAlloc, mqttConnect, mqttConnectUrl, mqttDisconnectEx, mqttGetConnackProperties, mqttReauthenticate, mqttSetAuth, mqttIsConnected, mqttSetConnectTimeout, mqttSetMessageSize, mqttPublish, mqttFree, mqttGetError, mqttSetWill, mqttSetProtocol, mqttSubscribe, mqttSubscribeEx,
    mqttUnsubscribeEx, mqttPublishEx, MQTT_WAIT_NONE, MQTT_CONNECT_CLEAN_SESSION, MQTT_CONNECT_WILL_QOS_1, MQTT_WAIT_ACK, MQTT_WAIT_SENT, type Mqtt, type MqttRecv, type Packet5,
} from '../../mqtt/index.js'
import { startMosquitto, type Broker } from '../../brokers/broker.js'
import { deadPort } from '../helpers/net.js'
import {
    mgos_mqtt_agent, mgos_mqtt_get_global_conn, mgos_mqtt_global_is_connected, mgos_mqtt_global_subscribe, mgos_mqtt_init, mgos_mqtt_pub,
    mgos_mqtt_reset, MG_EV_MQTT_PUBLISH, MG_EV_MQTT_SUBACK, type MgMqttMessage,
} from '../../mqtt/mongoose.js'
import { ioAgent, ioAgentStop, parseConfig } from '../../mqtt/agent/index.js'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inFiber } from '../helpers/fiber.js'
import { scripted } from '../helpers/peer.js'
import { close, connack, open5, send } from '../helpers/mqtt5.js'
import { connectClient } from '../helpers/client.js'
import { until } from './suite.js'
import { quietLogs } from '../helpers/quiet.js'

quietLogs(test)

let broker: Broker
test.before(async () => {
    broker = await startMosquitto({})
})
test.after.always(async () => {
    await broker?.stop()
})

test('the will in MQTT 5 (mosquitto): its delay keeps it back while the session resumes; DISCONNECT 0x04 with session end sends it, with its properties', async t => {
    await inFiber(function* () {
        const wills: MqttRecv[] = []
        const { mq: watcher, rc: wrc } = yield* open5(broker.port, null)
        t.is(wrc, 0)
        t.is(yield* mqttSubscribe(watcher, (rp: MqttRecv) => { wills.push(rp) }, 1, MQTT_WAIT_ACK, 'will5/#'), 0)

        const id = `will5-${process.pid}`
        const willProps = { willDelayInterval: 2, contentType: 'text/plain', userProperties: [['why', 'gone']] as [string, string][] }
        const prepare = (mq: Mqtt) => t.is(mqttSetWill(mq, 'will5/dev', 'offline', 0, willProps), 0, mqttGetError(mq) ?? '')
        const connectAs = function* () {
            const mq = mqttAlloc(id, null)!
            t.is(mqttSetProtocol(mq, 5, { sessionExpiryInterval: 120 }), 0)
            prepare(mq)
            t.is(yield* mqttConnectUrl(mq, `mqtt://127.0.0.1:${broker.port}`, 0, MQTT_WAIT_ACK), 0, mqttGetError(mq) ?? '')
            return mq
        }
        /* The link drops without DISCONNECT: the will waits its 2 s delay; the session resumes before that */
        const first = yield* connectAs()
        rCloseSocket(first.sock)
        yield* mqttFree(first)
        const second = yield* connectAs()
        yield* rSleep(3000)
        t.is(wills.length, 0, 'a resumed session cancels a delayed will [MQTT5-3.1.3.2.2]')

        /* DISCONNECT with Will Message, and the session ends now: the broker publishes the will (at once by the
           spec; mosquitto 2.0 waits for the will delay even then) */
        t.is(yield* mqttDisconnectEx(second, MQTT_WAIT_ACK, { reasonCode: 0x04, properties: { sessionExpiryInterval: 0, reasonString: 'bye' } }), 0, mqttGetError(second) ?? '')
        t.true(yield* until(() => wills.length === 1, 10000))
        t.is(wills[0].topic, 'will5/dev')
        t.is(wills[0].text, 'offline')
        t.is(wills[0].properties?.contentType, 'text/plain')
        t.deepEqual(wills[0].properties?.userProperties, [['why', 'gone']])
        rCloseSocket(second.sock)
        yield* mqttFree(second)
        yield* close(watcher)
    })
})

test('will properties and DISCONNECT options: what cannot be sent is R_ERR_BAD_ARGS with a reason', async t => {
    await inFiber(function* () {
        const v3 = mqttAlloc('w3', null)!
        t.is(mqttSetWill(v3, 'a', 'b', 0, { willDelayInterval: 5 }), R_ERR_BAD_ARGS)
        t.regex(mqttGetError(v3)!, /need MQTT 5/)
        t.is(mqttSetWill(v3, 'a', 'b', 0, {}), 0, 'no properties: as before')
        t.is(yield* mqttDisconnectEx(v3, MQTT_WAIT_ACK, { reasonCode: 4 }), R_ERR_BAD_ARGS)
        t.is(yield* mqttDisconnectEx(null, MQTT_WAIT_ACK, null), R_ERR_BAD_ARGS)
        t.is(yield* mqttUnsubscribeEx(v3, 'a', MQTT_WAIT_ACK, { userProperties: [['k', 'v']] }), R_ERR_BAD_ARGS)
        t.regex(mqttGetError(v3)!, /need MQTT 5/)
        yield* mqttFree(v3)

        const mq = mqttAlloc('w5', null)!
        t.is(mqttSetProtocol(mq, 5), 0)
        t.is(mqttSetWill(mq, 'a', 'b', 0, { topicAlias: 3 }), R_ERR_BAD_ARGS)
        t.regex(mqttGetError(mq)!, /Bad will properties/)
        t.is(mqttSetWill(mq, 'a', Uint8Array.of(0xff, 0xfe), 0, { payloadFormatIndicator: 1 }), R_ERR_BAD_ARGS)
        t.regex(mqttGetError(mq)!, /UTF-8/)
        t.is(yield* mqttDisconnectEx(mq, MQTT_WAIT_ACK, { reasonCode: 0x87 }), R_ERR_BAD_ARGS)
        t.regex(mqttGetError(mq)!, /not one a client sends/)
        t.is(yield* mqttDisconnectEx(mq, MQTT_WAIT_ACK, { properties: { sessionExpiryInterval: 60 } }), R_ERR_BAD_ARGS)
        t.regex(mqttGetError(mq)!, /MQTT-3.14.2-2/)
        t.is(yield* mqttSubscribeEx(mq, null, 1, MQTT_WAIT_ACK, { userProperties: [['k', 1 as unknown as string]] }, 'a'), R_ERR_BAD_ARGS)
        yield* mqttFree(mq)
    })
})

test('scripted: the will\'s properties in CONNECT, User Properties in SUBSCRIBE and UNSUBSCRIBE, DISCONNECT\'s reason and properties', async t => {
    await inFiber(function* () {
        const seen: Packet5[] = []
        const { port, listener } = yield* scripted(function* (peer) {
            seen.push((yield* peer.expect(1)) as unknown as Packet5)
            yield* connack(peer)
            const sub = (yield* peer.expect(8)) as unknown as Packet5 & { id: number }
            seen.push(sub)
            yield* send(peer, { type: 9, id: sub.id, reasonCodes: [1], properties: {} })
            const unsub = (yield* peer.expect(10)) as unknown as Packet5 & { id: number }
            seen.push(unsub)
            yield* send(peer, { type: 11, id: unsub.id, reasonCodes: [0], properties: {} })
            seen.push((yield* peer.expect(14)) as unknown as Packet5)
        }, 5)
        const { mq, rc } = yield* connectClient(port, {
            flags: MQTT_CONNECT_CLEAN_SESSION | MQTT_CONNECT_WILL_QOS_1,
            prepare: m => {
                t.is(mqttSetProtocol(m, 5, { sessionExpiryInterval: 10 }), 0)
                t.is(mqttSetWill(m, 'w/t', 'gone', 0, { willDelayInterval: 7, messageExpiryInterval: 99, payloadFormatIndicator: 1 }), 0)
            },
        })
        t.is(rc, 0)
        t.is(yield* mqttSubscribeEx(mq, null, 1, MQTT_WAIT_ACK, { userProperties: [['a', '1'], ['a', '2']], subscriptionIdentifier: 5 }, 's/#'), 0)
        t.is(yield* mqttUnsubscribeEx(mq, 's/#', MQTT_WAIT_ACK, { userProperties: [['why', 'done']] }), 0)
        t.is(yield* mqttDisconnectEx(mq, MQTT_WAIT_SENT, { reasonCode: 0x04, properties: { sessionExpiryInterval: 0, userProperties: [['k', 'v']] } }), 0)
        t.true(yield* until(() => seen.length === 4))
        const [connect, sub, unsub, disconnect] = seen as any[]
        t.deepEqual(connect.will.properties, { willDelayInterval: 7, messageExpiryInterval: 99, payloadFormatIndicator: 1 })
        t.is(connect.will.qos, 1)
        t.deepEqual(sub.properties, { subscriptionIdentifiers: [5], userProperties: [['a', '1'], ['a', '2']] })
        t.deepEqual(unsub.properties, { userProperties: [['why', 'done']] })
        t.is(disconnect.reasonCode, 4)
        t.deepEqual(disconnect.properties, { sessionExpiryInterval: 0, userProperties: [['k', 'v']] })
        rCloseSocket(mq.sock)
        yield* mqttFree(mq)
        rCloseSocket(listener)
    })
})

test('the Mongoose layer in MQTT 5 ("protocol": 5): mgos_mqtt_pub with properties, handlers get them in the event data', async t => {
    mgos_mqtt_reset()
    t.true(mgos_mqtt_init({ mqtt: { enable: true, server: `127.0.0.1:${broker.port}`, client_id: `mg5-${process.pid}`, protocol: 5, reconnect_timeout_min: 0.05 } }))
    await inFiber(function* () {
        try {
            yield* mongoose5(t)
        } finally {
            yield* ioAgentStop(mgos_mqtt_agent()!)
        }
    })
    mgos_mqtt_reset()
})

function* mongoose5(t: ExecutionContext): Fiber<void> {
    {
        t.true(yield* until(() => mgos_mqtt_global_is_connected()))
        t.not(mqttGetConnackProperties(mgos_mqtt_get_global_conn()), null, 'an MQTT 5 connection')
        const got: MgMqttMessage[] = []
        const subacked: unknown[] = []
        mgos_mqtt_global_subscribe('mg5/#', (_c, ev, data) => {
            if (ev === MG_EV_MQTT_PUBLISH) got.push(data as MgMqttMessage)
            if (ev === MG_EV_MQTT_SUBACK) subacked.push(data)
        })
        t.true(yield* until(() => subacked.length === 1))
        t.true(mgos_mqtt_pub('mg5/a', '{"t":21}', 8, 1, false, { contentType: 'application/json', userProperties: [['unit', 'C']] }) > 0)
        t.true(mgos_mqtt_pub('mg5/b', 'plain', 5, 0, false) > 0)
        t.is(mgos_mqtt_pub('mg5/c', Uint8Array.of(0xff), 1, 1, false, { payloadFormatIndicator: 1 }), 0, 'not UTF-8: refused, 0')
        t.true(yield* until(() => got.length === 2))
        const a = got.find(m => m.topic === 'mg5/a')!
        t.is(a.payload, '{"t":21}')
        t.is(a.properties?.contentType, 'application/json')
        t.deepEqual(a.properties?.userProperties, [['unit', 'C']])
        t.deepEqual(got.find(m => m.topic === 'mg5/b')!.properties, {})
    }
}

test('the durable store keeps MQTT 5 properties and the retain flag: a restarted agent sends them as published', async t => {
    const dir = mkdtempSync(join(tmpdir(), 'fiber-mqtt-store5-'))
    try {
        await inFiber(function* () {
            const got: MqttRecv[] = []
            const { mq: watcher } = yield* open5(broker.port, null)
            t.is(yield* mqttSubscribeEx(watcher, (rp: MqttRecv) => { got.push(rp) }, 1, MQTT_WAIT_ACK, { retainAsPublished: true }, 'store5/#'), 0)
            const store = { path: join(dir, 'outbox.log') }
            const id = `store5-${process.pid}`
            /* Offline: no broker answers; the messages wait in the store, and the agent stops */
            const dead = yield* rAwait(deadPort())
            const offline = ioAgent(parseConfig({ mqtt: { server: `127.0.0.1:${dead.port}`, client_id: id, protocol: 5 }, store }))
            const props = { contentType: 'application/json', userProperties: [['seq', '1']] as [string, string][], correlationData: Uint8Array.of(1, 2, 3) }
            t.is(yield* mqttPublishEx(offline.mqtt, '{"a":1}', 0, 1, MQTT_WAIT_NONE, { properties: props }, 'store5/a'), 0)
            t.is(yield* mqttPublishEx(offline.mqtt, 'kept', 0, 1, MQTT_WAIT_NONE, { retain: true, properties: { messageExpiryInterval: 600 } }, 'store5/r'), 0)
            yield* ioAgentStop(offline)
            rCloseSocket(dead.listener)
            /* Restarted against the broker: both go out from the store as they were published */
            const online = ioAgent(parseConfig({ mqtt: { server: `127.0.0.1:${broker.port}`, client_id: id, protocol: 5 }, store }))
            try {
                t.true(yield* until(() => got.length === 2, 10000), `got ${got.length}`)
            } finally {
                yield* ioAgentStop(online)
            }
            const a = got.find(m => m.topic === 'store5/a')!
            t.is(a.text, '{"a":1}')
            t.is(a.properties?.contentType, 'application/json')
            t.deepEqual(a.properties?.userProperties, [['seq', '1']])
            t.deepEqual([...a.properties!.correlationData!], [1, 2, 3])
            t.false(a.retain)
            const r = got.find(m => m.topic === 'store5/r')!
            t.true(r.retain, 'restored as a retained message')
            t.true((r.properties?.messageExpiryInterval ?? 0) > 500)
            t.is(yield* mqttPublishEx(watcher, '', 0, 1, MQTT_WAIT_ACK, { retain: true }, 'store5/r'), 0)
            yield* close(watcher)
        })
    } finally {
        rmSync(dir, { recursive: true, force: true })
    }
})

test('scripted: re-authentication started by the client: AUTH 0x19, the broker\'s challenge answered, Success; a refusal ends the connection with its words', async t => {
    await inFiber(function* () {
        const dec = (b: Uint8Array | undefined) => new TextDecoder().decode(b ?? new Uint8Array(0))
        const enc = (s: string) => new TextEncoder().encode(s)
        const auths: string[] = []
        const { port, listener } = yield* scripted(function* (peer) {
            const c = (yield* peer.expect(1)) as any
            auths.push(`connect ${c.properties.authenticationMethod} ${dec(c.properties.authenticationData)}`)
            yield* connack(peer, { authenticationMethod: 'TOKEN' })
            for (let round = 0; round < 2; round++) {
                const a = (yield* peer.expect(15)) as any
                auths.push(`${a.reasonCode.toString(16)} ${a.properties.authenticationMethod} ${dec(a.properties.authenticationData)}`)
                yield* send(peer, { type: 15, reasonCode: 0x18, properties: { authenticationMethod: 'TOKEN', authenticationData: enc(`nonce${round}`) } })
                const answer = (yield* peer.expect(15)) as any
                auths.push(`${answer.reasonCode.toString(16)} ${dec(answer.properties.authenticationData)}`)
                yield* send(peer, round === 0 ? { type: 15, reasonCode: 0, properties: { authenticationMethod: 'TOKEN' } } :
                    { type: 14, reasonCode: 0x87, properties: { reasonString: 'token revoked' } })
            }
            yield* peer.next(2000)
        }, 5)
        const { mq, rc } = yield* connectClient(port, {
            allowFailure: true,
            prepare: m => {
                t.is(mqttSetProtocol(m, 5), 0)
                t.is(mqttSetAuth(m, 'TOKEN', enc('t0'), (_mq, challenge) => enc(`signed ${dec(challenge ?? undefined)}`)), 0)
            },
        })
        t.is(rc, 0, mqttGetError(mq) ?? '')
        const first = mqttReauthenticate(mq, enc('t1'), MQTT_WAIT_ACK)
        t.is(yield* mqttReauthenticate(mq, enc('again'), MQTT_WAIT_ACK), R_ERR_BUSY, 'one at a time')
        t.is(yield* first, 0, mqttGetError(mq) ?? '')
        t.true(mqttIsConnected(mq))
        const refused = yield* mqttReauthenticate(mq, enc('t2'), MQTT_WAIT_ACK)
        t.not(refused, 0)
        t.regex(mqttGetError(mq) ?? '', /Not authorized.*token revoked/)
        t.false(mqttIsConnected(mq))
        t.deepEqual(auths, ['connect TOKEN t0', '19 TOKEN t1', '18 signed nonce0', '19 TOKEN t2', '18 signed nonce1'])
        t.is(yield* mqttReauthenticate(mq, null, MQTT_WAIT_ACK), R_ERR_NOT_CONNECTED)
        rCloseSocket(mq.sock)
        yield* mqttFree(mq)
        rCloseSocket(listener)

        /* Without enhanced authentication at connect there is nothing to renew */
        const plain = mqttAlloc('plain5', null)!
        t.is(mqttSetProtocol(plain, 5), 0)
        t.is(yield* mqttReauthenticate(plain, null, MQTT_WAIT_ACK), R_ERR_BAD_ARGS)
        t.regex(mqttGetError(plain)!, /MQTT-4.12.1-1/)
        t.is(yield* mqttReauthenticate(null, null, MQTT_WAIT_ACK), R_ERR_BAD_ARGS)
        yield* mqttFree(plain)
    })
})

test('scripted: a broker that never answers a re-authentication: the wait ends with R_ERR_TIMEOUT, the connection stays', async t => {
    await inFiber(function* () {
        const { port, listener } = yield* scripted(function* (peer) {
            yield* peer.expect(1)
            yield* connack(peer, { authenticationMethod: 'M' })
            yield* peer.expect(15)
            yield* peer.expect(15)
            yield* peer.next(4000)
        }, 5)
        const { mq, rc } = yield* connectClient(port, {
            allowFailure: true,
            prepare: m => {
                t.is(mqttSetProtocol(m, 5), 0)
                t.is(mqttSetAuth(m, 'M', null, null), 0)
                mqttSetConnectTimeout(m, 300)
            },
        })
        t.is(rc, 0)
        t.is(yield* mqttReauthenticate(mq, null, MQTT_WAIT_ACK), R_ERR_TIMEOUT)
        t.regex(mqttGetError(mq)!, /No answer to re-authentication/)
        t.true(mqttIsConnected(mq))
        t.is(yield* mqttReauthenticate(mq, null, MQTT_WAIT_SENT), 0, `sent, not waited for: ${mqttGetError(mq)}`)
        rCloseSocket(mq.sock)
        yield* mqttFree(mq)
        rCloseSocket(listener)
    })
})

test('Maximum Packet Size both ways (mosquitto): the client advertises its inbound limit, so the broker drops a larger message instead of the link', async t => {
    await inFiber(function* () {
        const got: string[] = []
        const { mq: small, rc } = yield* open5(broker.port, null, '', {}, m => mqttSetMessageSize(m, 100))
        t.is(rc, 0)
        t.is(yield* mqttSubscribe(small, (rp: MqttRecv) => { got.push(`${rp.topic} ${rp.dataSize}`) }, 1, MQTT_WAIT_ACK, 'mps/#'), 0)
        const { mq: sender } = yield* open5(broker.port, null)
        t.is(yield* mqttPublish(sender, 'x'.repeat(500), 0, 1, MQTT_WAIT_ACK, 'mps/big'), 0)
        t.is(yield* mqttPublish(sender, 'x'.repeat(50), 0, 1, MQTT_WAIT_ACK, 'mps/small'), 0)
        t.true(yield* until(() => got.length >= 1))
        yield* rSleep(200)
        t.deepEqual(got, ['mps/small 50'])
        t.true(mqttIsConnected(small), mqttGetError(small) ?? '')
        yield* close(sender)
        yield* close(small)
    })
})

test('a client without an id takes the one the server assigns (mosquitto in MQTT 5), and resumes its session with it', async t => {
    await inFiber(function* () {
        const mq = mqttAlloc('', null)!
        t.is(mqttSetProtocol(mq, 5, { sessionExpiryInterval: 60 }), 0)
        t.is(yield* mqttConnectUrl(mq, `mqtt://127.0.0.1:${broker.port}`, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK), 0, mqttGetError(mq) ?? '')
        const assigned = mqttGetConnackProperties(mq)?.assignedClientIdentifier
        t.truthy(assigned)
        t.is(mq.id, assigned!)
        rCloseSocket(mq.sock)
        yield* mqttFree(mq)
        const again = mqttAlloc(assigned!, null)!
        t.is(mqttSetProtocol(again, 5, { sessionExpiryInterval: 0 }), 0)
        t.is(yield* mqttConnectUrl(again, `mqtt://127.0.0.1:${broker.port}`, 0, MQTT_WAIT_ACK), 0)
        t.true(again.hasSession, 'the session kept under the assigned id')
        yield* close(again)
    })
})

test('scripted: reconnecting with a clean start republishes unacknowledged MQTT 5 messages afresh, payload and properties intact', async t => {
    await inFiber(function* () {
        const seen: string[] = []
        const { port, listener } = yield* scripted(function* (peer, index) {
            yield* peer.expect(1)
            yield* connack(peer)
            const p = (yield* peer.expect(3)) as any
            seen.push(`${index} ${new TextDecoder().decode(p.payload)} ${p.properties.contentType} ${p.dup ? 1 : 0}`)
            if (index === 1) {
                yield* send(peer, { type: 4, id: p.id, reasonCode: 0, properties: {} })
                yield* peer.next(1000)
            }
        }, 5)
        const { mq, rc } = yield* connectClient(port, { flags: 0, prepare: m => t.is(mqttSetProtocol(m, 5, { sessionExpiryInterval: 60 }), 0) })
        t.is(rc, 0)
        t.is(yield* mqttPublishEx(mq, 'payload', 0, 1, MQTT_WAIT_NONE, { properties: { contentType: 'text/plain' } }, 'lost/session'), 0)
        t.true(yield* until(() => seen.length === 1))
        t.true(yield* until(() => !mqttIsConnected(mq)))
        rCloseSocket(mq.sock)
        const sock = rAllocSocket()
        t.is(yield* rConnectSocket(sock, '127.0.0.1', port, 0), 0)
        t.is(yield* mqttConnect(mq, sock, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK), 0, mqttGetError(mq) ?? '')
        t.true(yield* until(() => seen.length === 2))
        t.deepEqual(seen, ['0 payload text/plain 0', '1 payload text/plain 0'])
        rCloseSocket(sock)
        yield* mqttFree(mq)
        rCloseSocket(listener)
    })
})

test('MQTT 5 resubscribing without a session: a filter with a Subscription Identifier goes in a SUBSCRIBE of its own; an identifier no subscription has routes by topic', async t => {
    await inFiber(function* () {
        const subs: { index: number, filters: string[], ids: number[] | undefined }[] = []
        const { port, listener } = yield* scripted(function* (peer, index) {
            yield* peer.expect(1)
            yield* connack(peer)
            for (let n = 0; n < 2; n++) {
                const sub = (yield* peer.expect(8)) as unknown as { id: number, subscriptions: { topic: string }[], properties: { subscriptionIdentifiers?: number[] } }
                subs.push({ index, filters: sub.subscriptions.map(s => s.topic), ids: sub.properties.subscriptionIdentifiers })
                yield* send(peer, { type: 9, id: sub.id, reasonCodes: [1], properties: {} })
            }
            if (index === 1) {
                /* Identifier 9 is no subscription's: the message goes by its topic */
                yield* send(peer, { type: 3, dup: false, qos: 0, retain: false, topic: 'b/x', id: 0, payload: Uint8Array.of(0x68, 0x69), properties: { subscriptionIdentifiers: [9] } })
                yield* peer.next(2000)
            }
        }, 5)
        const got: string[] = []
        const { mq, rc } = yield* connectClient(port, { prepare: m => { t.is(mqttSetProtocol(m, 5), 0) } })
        t.is(rc, 0)
        t.is(yield* mqttSubscribeEx(mq, (rp: MqttRecv) => { got.push(`a ${rp.topic}`) }, 1, MQTT_WAIT_ACK, { subscriptionIdentifier: 3 }, 'a/#'), 0)
        t.is(yield* mqttSubscribe(mq, (rp: MqttRecv) => { got.push(`b ${rp.topic} ${rp.text}`) }, 1, MQTT_WAIT_ACK, 'b/#'), 0)
        rCloseSocket(mq.sock)
        t.true(yield* until(() => !mqttIsConnected(mq)))
        const sock = rAllocSocket()
        yield* rConnectSocket(sock, '127.0.0.1', port, 0)
        t.is(yield* mqttConnect(mq, sock, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK), 0)
        t.true(yield* until(() => got.length === 1))
        t.deepEqual(got, ['b b/x hi'])
        t.deepEqual(subs, [
            { index: 0, filters: ['a/#'], ids: [3] }, { index: 0, filters: ['b/#'], ids: undefined },
            { index: 1, filters: ['a/#'], ids: [3] }, { index: 1, filters: ['b/#'], ids: undefined },
        ])
        rCloseSocket(sock)
        rCloseSocket(listener)
        yield* mqttFree(mq)
    })
})
