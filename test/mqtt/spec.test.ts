/*
    The whole of MQTT 3.1.1 on scripted peers: the spec's sizes, binary passwords, empty client ids, keep-alive 0
    and the ping interval, multi-filter SUBSCRIBE/UNSUBSCRIBE, CONNACK codes, an empty will, a waitable
    DISCONNECT, URL connects.
 */
import test from 'ava'
import { rGetTicks, rSetLogHandler, rSleep, R_ERR_BAD_ARGS, R_ERR_CANT_COMPLETE, R_ERR_CANT_CONNECT, type Fiber } from '../../runtime/index.js'
import { rAllocSocket, rCloseSocket, rConnectSocket, rIsSocketEof, type RSocket } from '../../socket/index.js'
import {
    mqttAlloc, mqttConnect, mqttConnectUrl, mqttDisconnect, mqttGetConnackCode, mqttGetError, mqttGetGranted,
    mqttIsConnected, mqttPublish, mqttSetCredentials, mqttSetKeepAlive, mqttSetWill, mqttSubscribe, mqttSubscribeMaster,
    mqttSubscribeMulti, mqttUnsubscribe, mqttUnsubscribeMulti, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK, MQTT_WAIT_NONE,
    type ConnectPacket, type Mqtt, type MqttRecv, type Packet,
} from '../../mqtt/index.js'
import { inFiber } from '../helpers/fiber.js'
import { scripted, type Peer } from '../helpers/peer.js'
import { ioAgent, ioAgentStop } from '../../mqtt/agent/index.js'
import { until } from './suite.js'
import { quietLogs } from '../helpers/quiet.js'

quietLogs(test)

function* dial(port: number, mq: Mqtt, flags = MQTT_CONNECT_CLEAN_SESSION): Fiber<{ sock: RSocket, rc: number }> {
    const sock = rAllocSocket()
    yield* rConnectSocket(sock, '127.0.0.1', port, 0)
    return { sock, rc: yield* mqttConnect(mq, sock, flags, MQTT_WAIT_ACK) }
}

/** A peer that records every CONNECT (copied) and accepts with `code`. */
function* connectRecorder(connects: ConnectPacket[], code = 0): Fiber<{ port: number, listener: RSocket }> {
    return yield* scripted(function* (peer) {
        const c = (yield* peer.expect(1)) as ConnectPacket | null
        if (c === null) return
        connects.push({ ...c, password: c.password && c.password.slice(), will: c.will && { ...c.will, payload: c.will.payload.slice() } })
        yield* peer.send({ type: 2, sessionPresent: false, returnCode: code })
        yield* peer.next(3000)
    })
}

/**
    A peer that answers each SUBSCRIBE (`grant` gives each filter's return code: the QoS asked by default) and each
    UNSUBSCRIBE; `seen` gets every packet after the CONNECT.
 */
function* subscribeBroker(seen: (p: Packet) => void = () => undefined,
    grant: (s: { topic: string, qos: number }) => number = s => s.qos): Fiber<{ port: number, listener: RSocket }> {
    return yield* scripted(function* (peer: Peer) {
        yield* peer.accept()
        for (;;) {
            const p = yield* peer.next(3000)
            if (p === null) return
            seen(p)
            if (p.type === 8) {
                yield* peer.send({ type: 9, id: p.id, granted: p.subscriptions.map(grant) })
            } else if (p.type === 10) {
                yield* peer.send({ type: 11, id: p.id })
            }
        }
    })
}

test.serial('the spec\'s sizes: a 65,535-byte client id, a long token as user name, a binary password sent as it is', async t => {
    await inFiber(function* () {
        const connects: ConnectPacket[] = []
        const { port, listener } = yield* connectRecorder(connects)
        const mq = mqttAlloc('d'.repeat(65535), null)!
        t.not(mq, null)
        const jwt = 'eyJ'.padEnd(2000, 'x')
        t.is(mqttSetCredentials(mq, jwt, new Uint8Array([0x00, 0xff, 0x10, 0x41])), 0)
        const a = yield* dial(port, mq)
        t.is(a.rc, 0)
        t.is(connects[0].clientId.length, 65535)
        t.is(connects[0].username, jwt)
        t.deepEqual([...connects[0].password!], [0x00, 0xff, 0x10, 0x41])
        rCloseSocket(a.sock)
        /* A 1 KiB string password goes as UTF-8 */
        const mq2 = mqttAlloc('p', null)!
        mqttSetCredentials(mq2, 'u', 'é'.repeat(512))
        const b = yield* dial(port, mq2)
        t.is(b.rc, 0)
        t.is(new TextDecoder().decode(connects[1].password!), 'é'.repeat(512))
        rCloseSocket(b.sock)
        rCloseSocket(listener)
    })
})

test.serial('an empty client id: sent with a clean session (the broker assigns one), refused without one', async t => {
    await inFiber(function* () {
        const connects: ConnectPacket[] = []
        const { port, listener } = yield* connectRecorder(connects)
        const mq = mqttAlloc('', null)!
        const a = yield* dial(port, mq)
        t.is(a.rc, 0)
        t.is(connects[0].clientId, '')
        rCloseSocket(a.sock)
        const b = yield* dial(port, mqttAlloc('', null)!, 0)
        t.is(b.rc, R_ERR_BAD_ARGS)
        yield* rSleep(50)
        t.is(connects.length, 1, 'nothing sent')
        rCloseSocket(b.sock)
        rCloseSocket(listener)
    })
})

test.serial('CONNACK codes are readable as numbers; an empty will payload is sent', async t => {
    await inFiber(function* () {
        const connects: ConnectPacket[] = []
        const refused = yield* connectRecorder(connects, 5)
        const mq = mqttAlloc('codes', null)!
        t.is(mqttGetConnackCode(mq), -1)
        t.is(mqttSetWill(mq, 'status/codes', '', 0), 0)
        const a = yield* dial(refused.port, mq)
        t.is(a.rc, R_ERR_CANT_CONNECT)
        t.is(mqttGetConnackCode(mq), 5)
        t.deepEqual(connects[0].will && [connects[0].will.topic, connects[0].will.payload.length], ['status/codes', 0])
        rCloseSocket(a.sock)
        const accepted = yield* connectRecorder(connects, 0)
        const b = yield* dial(accepted.port, mq)
        t.is(b.rc, 0)
        t.is(mqttGetConnackCode(mq), 0)
        rCloseSocket(b.sock)
        rCloseSocket(refused.listener)
        rCloseSocket(accepted.listener)
    })
})

test.serial('keep-alive 0 is off: CONNECT says 0 and no PINGREQ is sent', async t => {
    await inFiber(function* () {
        const seen: number[] = []
        let keepAlive = -1
        const { port, listener } = yield* scripted(function* (peer) {
            const c = (yield* peer.accept()) as ConnectPacket
            keepAlive = c.keepAlive
            for (;;) {
                const p = yield* peer.next(1500)
                if (p === null) return
                seen.push(p.type)
            }
        })
        const mq = mqttAlloc('no-ka', null)!
        t.is(mqttSetKeepAlive(mq, 0), 0)
        const c = yield* dial(port, mq)
        t.is(c.rc, 0)
        yield* rSleep(1200)
        t.is(keepAlive, 0)
        t.deepEqual(seen, [])
        t.is(mq.pingSent, 0)
        rCloseSocket(c.sock)
        rCloseSocket(listener)
    })
})

test.serial('a client that only receives still sends a packet at least every keep-alive [MQTT-3.1.2-23]', async t => {
    await inFiber(function* () {
        const pings: number[] = []
        let connectedAt = 0
        const { port, listener } = yield* scripted(function* (peer) {
            yield* peer.accept()
            connectedAt = rGetTicks()
            const end = rGetTicks() + 5000
            let n = 0
            while (rGetTicks() < end) {
                yield* peer.send({ type: 3, dup: false, qos: 0, retain: false, topic: 'feed', id: 0, payload: new TextEncoder().encode(String(n++)) })
                /* Read what the client sent meanwhile */
                const p = yield* peer.next(100)
                if (p !== null && p.type === 12) {
                    pings.push(rGetTicks())
                    yield* peer.send({ type: 13 })
                }
            }
        })
        const mq = mqttAlloc('receiver', null)!
        mqttSetKeepAlive(mq, 2000)
        let got = 0
        const c = yield* dial(port, mq)
        yield* mqttSubscribe(mq, () => { got++ }, 0, MQTT_WAIT_NONE, 'feed')
        t.true(yield* until(() => rGetTicks() - connectedAt > 5200, 8000))
        const times = [connectedAt, ...pings]
        const gaps = times.slice(1).map((v, i) => v - times[i])
        t.true(pings.length >= 3, `pings at ${pings.map(p => p - connectedAt)}`)
        t.true(Math.max(...gaps) <= 2000, `gaps ${gaps}`)
        t.true(got > 10)
        rCloseSocket(c.sock)
        rCloseSocket(listener)
    })
})

test.serial('multi-filter SUBSCRIBE: one packet, each filter with its QoS, codes per filter in order; bad input sends nothing', async t => {
    await inFiber(function* () {
        const packets: Packet[] = []
        /* The broker refuses "denied/#" */
        const { port, listener } = yield* subscribeBroker(p => { packets.push(JSON.parse(JSON.stringify(p))) },
            s => s.topic.startsWith('denied') ? 0x80 : Math.min(s.qos, 1))
        const lines: string[] = []
        const prior = rSetLogHandler((_t, _s, m) => { lines.push(m) })
        t.teardown(() => { rSetLogHandler(prior) })
        const mq = mqttAlloc('multi', null)!
        const c = yield* dial(port, mq)
        /* A bad filter anywhere: nothing is kept or sent */
        t.is(yield* mqttSubscribeMulti(mq, [{ topic: 'ok/a', qos: 1, callback: () => undefined }, { topic: 'bad/#/x', qos: 0 }], MQTT_WAIT_ACK), R_ERR_BAD_ARGS)
        t.regex(mqttGetError(mq)!, /bad\/#\/x/)
        t.is(yield* mqttSubscribeMulti(mq, [{ topic: 'ok/a', qos: 3 }], MQTT_WAIT_ACK), R_ERR_BAD_ARGS)
        t.is(yield* mqttSubscribeMulti(mq, [], MQTT_WAIT_ACK), R_ERR_BAD_ARGS)
        t.deepEqual(mq.topics, [])
        const got: string[] = []
        const granted: number[] = []
        const rc = yield* mqttSubscribeMulti(mq, [
            { topic: 'a/#', qos: 2, callback: (rp: MqttRecv) => { got.push(rp.topic) } },
            { topic: 'denied/#', qos: 1 },
            { topic: 'c', qos: 0, callback: (rp: MqttRecv) => { got.push(rp.topic) } },
        ], MQTT_WAIT_ACK, granted)
        t.is(rc, R_ERR_CANT_COMPLETE)
        t.deepEqual(granted, [1, 0x80, 0])
        t.is(mqttGetGranted(mq, 'denied/#'), 0x80)
        t.is(mqttGetGranted(mq, 'a/#'), 1)
        t.is(mqttGetGranted(mq, 'nothing'), -1)
        /* Each subscription with a callback knows its filter's code */
        t.deepEqual(mq.topics.map(s => [s.topic, s.granted]), [['a/#', 1], ['c', 0]])
        t.true(lines.some(l => l.includes('Subscribe to "denied/#" refused by the broker (SUBACK 0x80)')), lines.join('\n'))
        const subs = packets.filter(p => p.type === 8)
        t.is(subs.length, 1)
        t.deepEqual((subs[0] as { subscriptions: unknown[] }).subscriptions, [{ topic: 'a/#', qos: 2 }, { topic: 'denied/#', qos: 1 }, { topic: 'c', qos: 0 }])
        /* Under a master: local only, with the master's code */
        t.is(yield* mqttSubscribeMaster(mq, 1, MQTT_WAIT_ACK, 'm/#'), 0)
        const g2: number[] = []
        t.is(yield* mqttSubscribeMulti(mq, [{ topic: 'm/x', qos: 1, callback: () => undefined }, { topic: 'e', qos: 1 }], MQTT_WAIT_ACK, g2), 0)
        t.deepEqual(g2, [1, 1])
        /* Under the master, no SUBACK of its own: -1 */
        t.deepEqual(mq.topics.slice(2).map(s => [s.topic, s.granted]), [['m/x', -1]])
        t.deepEqual((packets.filter(p => p.type === 8).pop() as { subscriptions: { topic: string }[] }).subscriptions.map(s => s.topic), ['e'])
        /* One UNSUBSCRIBE for several filters */
        t.is(yield* mqttUnsubscribeMulti(mq, ['a/#', 'c', 'm/x'], MQTT_WAIT_ACK), 0)
        const unsubs = packets.filter(p => p.type === 10)
        t.deepEqual(unsubs.map(p => (p as { topics: string[] }).topics), [['a/#', 'c']])
        t.is(yield* mqttUnsubscribeMulti(mq, ['ok', 'bad/#/x'], MQTT_WAIT_ACK), R_ERR_BAD_ARGS)
        t.deepEqual(mq.topics.map(s => s.topic), [], 'only subscriptions with callbacks are local; none is left')
        rCloseSocket(c.sock)
        rCloseSocket(listener)
    })
})

test.serial('without a session the client resubscribes in one SUBSCRIBE, each filter with its QoS', async t => {
    await inFiber(function* () {
        const subscribes: { topic: string, qos: number }[][] = []
        const { port, listener } = yield* scripted(function* (peer: Peer, index: number) {
            yield* peer.accept()
            for (;;) {
                const p = yield* peer.next(index === 0 ? 500 : 1500)
                if (p === null) return
                if (p.type === 8) {
                    subscribes.push(p.subscriptions.map(s => ({ ...s })))
                    yield* peer.send({ type: 9, id: p.id, granted: p.subscriptions.map(s => s.qos) })
                }
            }
        })
        const mq = mqttAlloc('resub', null)!
        const a = yield* dial(port, mq, 0)
        t.is(yield* mqttSubscribe(mq, () => undefined, 0, MQTT_WAIT_ACK, 'x/0'), 0)
        t.is(yield* mqttSubscribe(mq, () => undefined, 1, MQTT_WAIT_ACK, 'x/1'), 0)
        t.is(yield* mqttSubscribe(mq, () => undefined, 2, MQTT_WAIT_ACK, 'x/2'), 0)
        t.true(yield* until(() => !mqttIsConnected(mq), 3000))
        rCloseSocket(a.sock)
        const b = yield* dial(port, mq, 0)
        t.is(b.rc, 0)
        t.true(yield* until(() => subscribes.length === 4, 3000))
        t.deepEqual(subscribes[3], [{ topic: 'x/0', qos: 0 }, { topic: 'x/1', qos: 1 }, { topic: 'x/2', qos: 2 }])
        rCloseSocket(b.sock)
        rCloseSocket(listener)
    })
})

test.serial('mqttDisconnect(mq, MQTT_WAIT_ACK) waits until the connection is closed', async t => {
    await inFiber(function* () {
        let gotDisconnect = false
        const { port, listener } = yield* scripted(function* (peer) {
            yield* peer.accept()
            const p = yield* peer.next(3000)
            gotDisconnect = p?.type === 14
            yield* rSleep(100)
        })
        const mq = mqttAlloc('bye', null)!
        const c = yield* dial(port, mq)
        const start = rGetTicks()
        t.is(yield* mqttDisconnect(mq, MQTT_WAIT_ACK), 0)
        t.true(gotDisconnect)
        t.true(rGetTicks() - start >= 80)
        t.true(rIsSocketEof(c.sock))
        t.is(yield* mqttDisconnect(mq, MQTT_WAIT_ACK), -30)
        t.is(mqttDisconnect(null), R_ERR_BAD_ARGS)
        rCloseSocket(c.sock)
        rCloseSocket(listener)
    })
})

test.serial('mqttConnectUrl: host, port and credentials from the URL; a bad URL is refused without showing its password', async t => {
    await inFiber(function* () {
        const connects: ConnectPacket[] = []
        const { port, listener } = yield* connectRecorder(connects)
        const mq = mqttAlloc('by-url', null)!
        t.is(yield* mqttConnectUrl(mq, `mqtt://dev%401:s3cr%2Ft@127.0.0.1:${port}`, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK), 0)
        t.is(connects[0].username, 'dev@1')
        t.is(new TextDecoder().decode(connects[0].password!), 's3cr/t')
        t.true(mqttIsConnected(mq))
        rCloseSocket(mq.sock)
        const bad = mqttAlloc('bad-url', null)!
        t.is(yield* mqttConnectUrl(bad, 'mqtt://u:hunter2@h:99999', 0, MQTT_WAIT_ACK), R_ERR_BAD_ARGS)
        t.regex(mqttGetError(bad)!, /Bad port "99999" in "mqtt:\/\/u:\*\*\*@h:99999"/)
        const lines: string[] = []
        const prior = rSetLogHandler((_t, _s, m) => { lines.push(m) })
        try {
            t.true((yield* mqttConnectUrl(bad, 'mqtt://127.0.0.1:1', 0, MQTT_WAIT_ACK)) < 0)
        } finally {
            rSetLogHandler(prior)
        }
        t.regex(mqttGetError(bad)!, /refused/)
        rCloseSocket(listener)
    })
})

test.serial('the agent makes its configured subscriptions in one SUBSCRIBE, each with its QoS', async t => {
    await inFiber(function* () {
        const subscribes: { topic: string, qos: number }[][] = []
        const { port, listener } = yield* subscribeBroker(p => {
            if (p.type === 8) subscribes.push(p.subscriptions.map(s => ({ ...s })))
        })
        const agent = ioAgent({ mqtt: { server: `127.0.0.1:${port}`, client_id: 'agent-multi' }, subscriptions: ['dev/cmd/#', { topic: 'fleet/all', qos: 2 }] })
        t.true(yield* until(() => subscribes.length === 1, 3000))
        yield* rSleep(100)
        t.deepEqual(subscribes, [[{ topic: 'dev/cmd/#', qos: 1 }, { topic: 'fleet/all', qos: 2 }]])
        yield* ioAgentStop(agent)
        rCloseSocket(listener)
    })
})

test.serial('a broker that answers every copy of what the client resent on the same connection: the extra acknowledgements end nothing', async t => {
    await inFiber(function* () {
        const seen: string[] = []
        const answer = (p: Packet): Packet | null => {
            switch (p.type) {
            case 3: return p.qos === 1 ? { type: 4, id: p.id } : { type: 5, id: p.id }
            case 6: return { type: 7, id: p.id }
            case 8: return { type: 9, id: p.id, granted: p.subscriptions.map(s => s.qos) }
            case 10: return { type: 11, id: p.id }
            default: return null
            }
        }
        const { port, listener } = yield* scripted(function* (peer: Peer) {
            yield* peer.accept()
            /* A slow broker: it answers nothing until the client has resent the first packet it holds, then it
               answers every copy, as a broker that keeps no state for what it acknowledged does */
            const held: Packet[] = []
            for (;;) {
                const p = yield* peer.next(4000)
                if (p === null) return
                if (p.type === 12) {
                    yield* peer.send({ type: 13 })
                    continue
                }
                seen.push(`${p.type}:${'id' in p ? p.id : ''}`)
                held.push(p)
                const first = held[0]
                if (held.filter(h => h.type === first.type && 'id' in h && 'id' in first && h.id === first.id).length < 2) continue
                for (const h of held.splice(0)) {
                    const a = answer(h)
                    if (a !== null) yield* peer.send(a)
                }
            }
        })
        const mq = mqttAlloc('answers-twice', null)!
        mq.msgTimeout = 300
        const c = yield* dial(port, mq)
        t.is(c.rc, 0)
        t.is(yield* mqttPublish(mq, 'one', 0, 1, MQTT_WAIT_ACK, 'twice/q1'), 0)
        t.is(yield* mqttPublish(mq, 'two', 0, 2, MQTT_WAIT_ACK, 'twice/q2'), 0)
        t.is(yield* mqttSubscribe(mq, () => undefined, 1, MQTT_WAIT_ACK, 'twice/sub'), 0)
        t.is(yield* mqttUnsubscribeMulti(mq, ['twice/sub'], MQTT_WAIT_ACK), 0)
        /* Every duplicate answer has arrived by now (each went out before the one that completed the next call) */
        yield* rSleep(100)
        t.true(mqttIsConnected(mq), mqttGetError(mq) ?? '')
        t.is(mq.error, 0)
        t.deepEqual(seen, ['3:1', '3:1', '3:2', '3:2', '6:2', '6:2', '8:3', '8:3', '10:4', '10:4'])
        /* And on it goes: the ids are handed out again later, acknowledged once each */
        t.is(yield* mqttPublish(mq, 'three', 0, 1, MQTT_WAIT_ACK, 'twice/q1'), 0)
        t.true(mqttIsConnected(mq))
        rCloseSocket(c.sock)
        rCloseSocket(listener)
    })
})

test.serial('a QoS 2 message waiting for PUBCOMP resends its PUBREL (not its PUBLISH) when overdue; PUBCOMP completes it', async t => {
    await inFiber(function* () {
        const seen: string[] = []
        const { port, listener } = yield* scripted(function* (peer: Peer) {
            yield* peer.accept()
            let rels = 0
            for (;;) {
                const p = yield* peer.next(4000)
                if (p === null) return
                seen.push(`${p.type}:${'id' in p ? p.id : ''}${p.type === 3 ? `:dup${p.dup ? 1 : 0}` : ''}`)
                if (p.type === 3) yield* peer.send({ type: 5, id: p.id })
                if (p.type === 6 && ++rels === 2) yield* peer.send({ type: 7, id: p.id })
            }
        })
        const mq = mqttAlloc('pubrel-again', null)!
        mq.msgTimeout = 300
        const c = yield* dial(port, mq)
        t.is(c.rc, 0)
        const start = rGetTicks()
        t.is(yield* mqttPublish(mq, 'two', 0, 2, MQTT_WAIT_ACK, 'q2/overdue'), 0)
        t.true(rGetTicks() - start >= 250)
        t.deepEqual(seen.filter(s => !s.startsWith('12')), ['3:1:dup0', '6:1', '6:1'])
        t.true(mqttIsConnected(mq))
        rCloseSocket(c.sock)
        rCloseSocket(listener)
    })
})

/* Unsubscribing takes the filter's subscriptions out of the index alone; mq.topics is made again when read */
test.serial('mq.topics through random subscribes and unsubscribes: the subscriptions left, in the order made, read or not between calls', async t => {
    await inFiber(function* () {
        const { port, listener } = yield* subscribeBroker()
        const mq = mqttAlloc('topics', null)!
        const c = yield* dial(port, mq)
        const filters = ['a', 'a/b', 'a/+', '#', '$share/g/a/b', 'a/b/#', '+/+']
        let model: string[] = []
        let seed = 5
        const rand = (n: number) => {
            seed = (seed * 1103515245 + 12345) & 0x7fffffff
            return seed % n
        }
        for (let i = 0; i < 300; i++) {
            const f = filters[rand(filters.length)]
            if (rand(3) === 0) {
                t.is(yield* mqttUnsubscribe(mq, f, MQTT_WAIT_NONE), 0)
                model = model.filter(m => m !== f)
            } else {
                t.is(yield* mqttSubscribe(mq, () => undefined, 1, MQTT_WAIT_NONE, '%s', f), 0)
                model.push(f)
            }
            if (rand(2) === 0) {
                t.deepEqual(mq.topics.map(s => s.topic), model, `after step ${i}`)
            }
        }
        t.deepEqual(mq.topics.map(s => s.topic), model)
        t.is(mq.index!.size, model.length)
        rCloseSocket(c.sock)
        rCloseSocket(listener)
    })
})
