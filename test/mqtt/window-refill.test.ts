import test, { type ExecutionContext } from 'ava'
import { rCloseSocket, rAllocSocket, rConnectSocket } from '../../socket/index.js'
import {
    mqttAlloc, mqttCheckQueue, mqttConnect, mqttGetStats, mqttMsgsToSend, mqttPublish, mqttSetInflight, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK, MQTT_WAIT_NONE,
    type Packet, type PublishPacket,
} from '../../mqtt/index.js'
import { refillMark } from '../../mqtt/client/window.js'
import { inFiber } from '../helpers/fiber.js'
import { scripted } from '../helpers/peer.js'
import { until } from './suite.js'
import { closeListenersAtEnd } from '../helpers/net.js'

closeListenersAtEnd(test)

/* A client connected to the peer on port with a window of `inflight` */
function* windowClient(t: ExecutionContext, name: string, port: number, inflight: number) {
    const mq = mqttAlloc(name, null)!
    const sock = rAllocSocket()
    yield* rConnectSocket(sock, '127.0.0.1', port, 0)
    t.is(yield* mqttConnect(mq, sock, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK), 0)
    mqttSetInflight(mq, inflight)
    return { mq, sock }
}

test('refillMark: half of a window drains before it refills (at least one message at a time)', t => {
    t.is(refillMark(1), 0)
    t.is(refillMark(2), 1)
    t.is(refillMark(3), 2)
    t.is(refillMark(8), 4)
    t.is(refillMark(100), 50)
    t.is(refillMark(65535), 32768)
})

test('a full window refills in batches: queued messages go in once half of it is acknowledged, in order, none lost', async t => {
    await inFiber(function* () {
        /* The payloads (copied: the peer's read buffer is reused) and ids of the PUBLISHes the peer saw */
        const got: { text: string, id: number }[] = []
        /* Acknowledgements the peer may send (the test lets them out a few at a time) */
        let release = 0
        const { port, listener } = yield* scripted(function* (peer) {
            yield* peer.accept()
            let acked = 0
            while (acked < 24 && !peer.ended) {
                const p = yield* peer.next(20)
                if (p?.type === 3) {
                    got.push({ text: new TextDecoder().decode((p as PublishPacket).payload), id: (p as PublishPacket).id })
                }
                /* The acknowledgements let out together go in one write (one chunk for the client: see the next tests) */
                const ids: number[] = []
                while (release > 0 && acked < got.length) {
                    release--
                    ids.push(got[acked++].id)
                }
                if (ids.length > 0) {
                    yield* peer.puback(ids)
                }
            }
        })
        const { mq, sock } = yield* windowClient(t, 'refill', port, 8)
        for (let i = 0; i < 24; i++) {
            t.is(yield* mqttPublish(mq, `m${i}`, 0, 1, MQTT_WAIT_NONE, 'refill'), 0)
        }
        t.true(yield* until(() => got.length === 8, 10_000))
        t.like(mqttGetStats(mq), { inflight: 8, queued: 16 })
        /* Three acknowledgements: the window is not yet half empty, nothing goes in */
        release = 3
        t.true(yield* until(() => mqttGetStats(mq).acknowledged === 3, 10_000))
        t.like(mqttGetStats(mq), { inflight: 5, queued: 16 })
        /* The fourth: half of the window is free, four queued messages go in at once */
        release = 1
        t.true(yield* until(() => mqttGetStats(mq).acknowledged === 4, 10_000))
        t.like(mqttGetStats(mq), { inflight: 8, queued: 12 })
        /* Four of the eight in flight came from the queue as plain entries: publishes, none overdue, none made a message */
        t.true(mqttCheckQueue(mq))
        t.is(mqttMsgsToSend(mq), 12)
        t.is([...Array(65536).keys()].filter(id => mq.inflight.plain(id) >= 0).length, 4)
        t.true(yield* until(() => got.length === 12, 10_000))
        release = 1000
        t.true(yield* until(() => mqttGetStats(mq).acknowledged === 24, 10_000))
        t.like(mqttGetStats(mq), { inflight: 0, queued: 0 })
        t.deepEqual(got.map(p => p.text), Array.from({ length: 24 }, (_, i) => `m${i}`))
        t.is(new Set(got.slice(0, 8).map(p => p.id)).size, 8)
        rCloseSocket(sock)
        rCloseSocket(listener)
    })
})

/*
    A peer that answers the first message of what it read at once and holds the rest of its answers until this
    side sends something new, or HOLD ms pass: a broker under Nagle's algorithm (mosquitto's default) against
    this side's delayed ACK, which only a write of this side ends early. Returns the rounds the client let run
    out (it still had messages to send and wrote nothing) and the payloads in the order received.
 */
function* holdingPeer(count: number, hold: number) {
    const seen: string[] = []
    let stalls = 0
    const { port, listener } = yield* scripted(function* (peer) {
        yield* peer.accept()
        let unanswered: number[] = []
        const take = (p: Packet | null) => {
            if (p?.type === 3) {
                seen.push(new TextDecoder().decode((p as PublishPacket).payload))
                unanswered.push((p as PublishPacket).id)
            }
        }
        while (seen.length < count || unanswered.length > 0) {
            if (unanswered.length === 0) {
                const p = yield* peer.next(10_000)
                if (p === null) {
                    return
                }
                take(p)
            }
            for (const p of peer.takeQueued()) {
                take(p)
            }
            yield* peer.send([0x40, 2, unanswered[0] >> 8, unanswered[0] & 0xff])
            unanswered.shift()
            /* Held until the client writes (a PUBLISH it had not sent before this answer) */
            const more = seen.length < count
            const p = yield* peer.next(hold)
            if (p === null && more) {
                stalls++
            }
            take(p)
            if (unanswered.length > 0) {
                yield* peer.puback(unanswered)
                unanswered = []
            }
        }
    })
    return { port, listener, seen, stalls: () => stalls }
}

for (const window of [8, 200]) {
    test(`a broker that holds its answers for a write of ours stalls a window of ${window} once, not every round; nothing lost, in order`, async t => {
        await inFiber(function* () {
            const count = window * 8
            const peer = yield* holdingPeer(count, 300)
            const { mq, sock } = yield* windowClient(t, `holding-${window}`, peer.port, window)
            try {
                for (let i = 0; i < count; i++) {
                    t.is(yield* mqttPublish(mq, `m${i}`, 0, 1, MQTT_WAIT_NONE, 'hold'), 0)
                }
                t.true(yield* until(() => mqttGetStats(mq).acknowledged === count, 60_000))
                /* The first stall tells the client that this peer holds its answers; no round stalls after it */
                t.is(peer.stalls(), 1)
                t.deepEqual(peer.seen, Array.from({ length: count }, (_, i) => `m${i}`))
            } finally {
                rCloseSocket(sock)
                rCloseSocket(peer.listener)
            }
        })
    })
}

test('a refill of a large window goes to the socket a slab (128 KiB) at a time, not held in one buffer; every message arrives, in order', async t => {
    await inFiber(function* () {
        const count = 3000
        const got: number[] = []
        const { port, listener } = yield* scripted(function* (peer) {
            yield* peer.accept()
            /* Every PUBLISH acknowledged as it is read: a thousand answers can come in one chunk */
            while (got.length < count) {
                const p = yield* peer.next(10_000)
                if (p === null) {
                    return
                }
                const ids: number[] = []
                for (const q of [p, ...peer.takeQueued()]) {
                    if (q.type === 3) {
                        const pub = q as PublishPacket
                        got.push(pub.payload[0] | (pub.payload[1] << 8))
                        ids.push(pub.id)
                    }
                }
                yield* peer.puback(ids)
            }
        })
        const { mq, sock } = yield* windowClient(t, 'refill-large', port, 1000)
        /* The most the client's write buffer holds before it goes to the socket */
        let most = 0
        const writer = mq.writer
        const reserve = writer.reserve.bind(writer)
        writer.reserve = (n: number) => {
            most = Math.max(most, writer.length + n)
            return reserve(n)
        }
        try {
            const payload = new Uint8Array(1024)
            for (let i = 0; i < count; i++) {
                payload[0] = i & 0xff
                payload[1] = i >> 8
                t.is(yield* mqttPublish(mq, payload, payload.length, 1, MQTT_WAIT_NONE, 'refill/large'), 0)
            }
            t.true(yield* until(() => mqttGetStats(mq).acknowledged === count, 30_000))
            t.deepEqual(got, Array.from({ length: count }, (_, i) => i))
            /* A slab and the packet that did not fit in it: a refill of hundreds of messages was one buffer of half a MiB */
            t.true(most <= 128 * 1024 + 1100, `${most} bytes held`)
        } finally {
            rCloseSocket(sock)
            rCloseSocket(listener)
        }
    })
})
