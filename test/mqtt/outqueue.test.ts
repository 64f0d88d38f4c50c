import test from 'ava'
import { rCloseSocket, rAllocSocket, rConnectSocket } from '../../socket/index.js'
import {
    mqttAlloc, mqttConnect, mqttGetStats, mqttPublish, mqttSetInflight, MQTT_CONNECT_CLEAN_SESSION, MQTT_EVENT_ATTACH, MQTT_WAIT_ACK, MQTT_WAIT_NONE,
    type Mqtt, type PublishPacket,
} from '../../mqtt/index.js'
import { copyBytes } from '../../mqtt/codec/bytes.js'
import { OutQueue, PlainHead } from '../../mqtt/client/outqueue.js'
import { encodeTopic, writePublish, writePublishRange } from '../../mqtt/codec/encode-publish.js'
import { OUT_PUBLISH, OutMsg } from '../../mqtt/client/outmsg.js'
import { MqttWait } from '../../mqtt/client/state.js'
import { inFiber } from '../helpers/fiber.js'
import { scripted } from '../helpers/peer.js'
import { until } from './suite.js'
import { Rng } from './random.js'
import { closeListenersAtEnd } from '../helpers/net.js'

closeListenersAtEnd(test)

const text = (b: Uint8Array | null) => new TextDecoder().decode(b!)
const topic = new Uint8Array([0, 1, 116])

test('OutQueue: plain slots and messages in one order, across segments, emptied and refilled', t => {
    const q = new OutQueue()
    const want: string[] = []
    const push = (i: number) => {
        const payload = Buffer.from(`p${i}`)
        if (i % 7 === 0) {
            q.push(new OutMsg(OUT_PUBLISH, 1, false, 't', topic, copyBytes(payload), new MqttWait(), 0))
        } else {
            q.pushPlain('t', topic, payload, i % 3, i % 2 === 1)
        }
        /* The caller reuses its buffer: the queue kept its own copy */
        payload.fill(0)
        want.push(`p${i}`)
    }
    for (let i = 0; i < 50; i++) push(i)
    for (let i = 0; i < 40; i++) t.is(text(q.shift()!.payload), want.shift()!)
    /* Head at 40 of the first segment (64): the next pushes fill it and chain three more (1024 each) */
    for (let i = 50; i < 2600; i++) push(i)
    t.is(q.length, 2560)
    /* Half taken (the head leaves two segments), then more pushed: the tail reuses a segment the head left */
    for (let n = 0; n < 1280; n++) t.is(text(q.shift()!.payload), want.shift()!)
    for (let i = 2600; i < 3880; i++) push(i)
    t.is(q.length, 2560)
    for (let n = 0; n < 2560; n++) {
        const i = Number(want[0].slice(1))
        const m = q.shift()!
        t.is(text(m.payload), want.shift()!)
        t.is(m.type, OUT_PUBLISH)
        t.is(m.topic, 't')
        if (i % 7 === 0) {
            t.true(m.wait instanceof MqttWait)
        } else {
            t.is(m.qos, i % 3)
            t.is(m.retain, i % 2 === 1)
            t.is(m.wait, null)
            t.is(m.size, m.payload!.length)
        }
    }
    t.is(q.length, 0)
    t.is(q.shift(), undefined)
    t.is(q.peek(), undefined)
    t.false(q.peekPlain(new PlainHead()))
    q.drop()
    /* Empty, it starts over */
    push(5000)
    t.is(q.length, 1)
    t.is(text(q.shift()!.payload), 'p5000')
})

test('OutQueue: peek makes a plain slot into one message, which shift then returns; large payloads are copied too', t => {
    const q = new OutQueue()
    const big = Buffer.alloc(10_000, 0x41)
    q.pushPlain('big', topic, big, 2, true)
    big.fill(0x42)
    const m = q.peek()!
    t.is(q.peek(), m)
    t.is(q.shift(), m)
    t.is(m.payload!.length, 10_000)
    t.true(m.payload!.every(b => b === 0x41))
    t.is(m.qos, 2)
    t.true(m.retain)
})

test('copyBytes: a copy, also of a Buffer (whose slice() is a view)', t => {
    const b = Buffer.from('abc')
    const c = copyBytes(b)
    b[0] = 0x7a
    t.is(text(c), 'abc')
    t.false(c.buffer === b.buffer)
})

test('queued messages keep their payloads when the caller reuses its buffer; plain and waited-on messages stay in order', async t => {
    await inFiber(function* () {
        const got: string[] = []
        const { port, listener } = yield* scripted(function* (peer) {
            yield* peer.accept()
            while (got.length < 12 && !peer.ended) {
                const p = yield* peer.next(20)
                if (p?.type === 3) {
                    const pub = p as PublishPacket
                    got.push(pub.payload.length > 100 ? `big:${pub.payload.length}:${pub.payload.every(b => b === 0x61)}` : text(pub.payload))
                    if (pub.qos === 1) {
                        yield* peer.send({ type: 4, id: pub.id })
                    }
                }
            }
        })
        const mq = mqttAlloc('outqueue', null)!
        const sock = rAllocSocket()
        yield* rConnectSocket(sock, '127.0.0.1', port, 0)
        t.is(yield* mqttConnect(mq, sock, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK), 0)
        mqttSetInflight(mq, 1)
        const buf = Buffer.alloc(8)
        const big = Buffer.alloc(6000, 0x61)
        const waits = []
        for (let i = 0; i < 11; i++) {
            buf.write(`m${i}`.padEnd(8, '.'))
            if (i === 5) {
                /* One the caller waits on: kept as a message object between the plain slots */
                waits.push(mqttPublish(mq, buf, 0, 1, MQTT_WAIT_ACK, 'q'))
            } else {
                t.is(yield* mqttPublish(mq, buf, 0, i % 4 === 3 ? 0 : 1, MQTT_WAIT_NONE, 'q'), 0)
            }
            buf.fill(0x2d)
        }
        t.is(yield* mqttPublish(mq, big, 0, 1, MQTT_WAIT_NONE, 'q'), 0)
        big.fill(0x62)
        t.true(mqttGetStats(mq).queued > 5)
        t.is(yield* waits[0], 0)
        t.true(yield* until(() => got.length === 12 && mqttGetStats(mq).queued === 0, 10_000))
        t.deepEqual(got, [...Array.from({ length: 11 }, (_, i) => `m${i}`.padEnd(8, '.')), 'big:6000:true'])
        rCloseSocket(sock)
        rCloseSocket(listener)
    })
})

test('a publish that waits for MQTT_EVENT_ATTACH to connect sends the payload as it was at the call (a Buffer reused meanwhile)', async t => {
    await inFiber(function* () {
        const got: string[] = []
        const { port, listener } = yield* scripted(function* (peer) {
            yield* peer.accept()
            const p = (yield* peer.next(10_000)) as PublishPacket
            got.push(text(p.payload))
            yield* peer.send({ type: 4, id: p.id })
        })
        const mq = mqttAlloc('attach-copy', function* (m: Mqtt, event: number) {
            if (event === MQTT_EVENT_ATTACH) {
                const sock = rAllocSocket()
                yield* rConnectSocket(sock, '127.0.0.1', port, 0)
                yield* mqttConnect(m, sock, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK)
            }
        })!
        const buf = Buffer.from('first')
        const call = mqttPublish(mq, buf, 0, 1, MQTT_WAIT_ACK, 'attach')
        buf.write('reuse')
        t.is(yield* call, 0)
        t.deepEqual(got, ['first'])
        rCloseSocket(mq.sock)
        rCloseSocket(listener)
    })
})

test('OutQueue: peekPlain describes a plain QoS 1/2 message, its payload left in the slab, making nothing; not sent, the slot stays plain', t => {
    const q = new OutQueue()
    q.pushPlain('a', topic, Buffer.from('one'), 1, true)
    q.pushPlain('a', topic, Buffer.from('zero'), 0, false)
    const h = new PlainHead()
    t.true(q.peekPlain(h))
    t.is(text(h.bytes.subarray(h.start, h.start + h.size)), 'one')
    t.is(h.size, 3)
    t.is(h.qos, 1)
    t.true(h.retain)
    t.is(h.topic, 'a')
    t.is(h.topicBytes, topic)
    t.is(q.length, 2)
    /* Not sent after all (no packet id free): whoever takes it next gets an ordinary message of the same slot */
    const again = q.peek()!
    t.is(text(again.payload), 'one')
    t.is(again.qos, 1)
    /* Made by peek, it is kept: no longer plain */
    t.false(q.peekPlain(h))
    t.is(q.peek(), again)
    q.drop()
    /* QoS 0 is not sent from the slab: it comes as a message with its payload */
    t.false(q.peekPlain(h))
    t.is(text(q.peek()!.payload), 'zero')
    q.drop()
    q.drop()
    t.is(q.length, 0)
})

test('writePublishRange writes what writePublish does, for short payloads and long ones', t => {
    for (const size of [0, 5, 64, 65, 3000]) {
        const payload = Uint8Array.from({ length: size }, (_, i) => (i * 7) & 255)
        const slab = new Uint8Array(size + 20)
        slab.set(payload, 11)
        for (const [qos, retain] of [[1, false], [2, true]] as const) {
            const want = new Uint8Array(size + 40)
            const wantEnd = writePublish(want, 3, topic, payload, qos, retain, false, 513)
            const got = new Uint8Array(size + 40)
            const gotEnd = writePublishRange(got, 3, topic, slab, 11, 11 + size, qos, retain, 513)
            t.is(gotEnd, wantEnd)
            t.deepEqual(got, want)
        }
    }
})

test('OutQueue against an array, over random runs: plain and whole messages, small and large payloads, runs of one topic and topics changing, taken every way, across segments', t => {
    const r = new Rng(20261203)
    interface Want { text: string, qos: number, retain: boolean, topic: number, whole: OutMsg | null }
    /* Topics with their encodings (one encoding per topic, as the client's cache gives; 'u' twice, encoded apart) */
    const topics = [['t', topic], ['a/b', encodeTopic('a/b')], ['c/d/e', encodeTopic('c/d/e')], ['u', new Uint8Array([0, 1, 117])], ['u', new Uint8Array([0, 1, 117])]] as const
    let current = 0
    for (let run = 0; run < 30; run++) {
        const q = new OutQueue()
        const model: Want[] = []
        let serial = 0
        /* Runs that stay short (the first segment) and runs that hold thousands (segments chained and reused) */
        const depth = run % 3 === 0 ? 60 : 1 + r.int(5000)
        const check = (m: OutMsg | undefined, w: Want | undefined) => {
            if (w === undefined) {
                t.is(m, undefined)
                return
            }
            if (w.whole !== null) {
                t.is(m, w.whole)
                return
            }
            const bytes = m!.payload ?? m!.bytes!.subarray(m!.keptStart, m!.keptEnd)
            t.is(text(bytes), w.text)
            t.is(m!.qos, w.qos)
            t.is(m!.retain, w.retain)
            t.is(m!.size, bytes.length)
            t.is(m!.topic, topics[w.topic][0])
            t.is(m!.topicBytes, topics[w.topic][1])
        }
        /* What the window sends: a plain QoS 1/2 message described in place, anything else as peek's message */
        const head = new PlainHead()
        const sent = (w: Want | undefined) => {
            if (q.peekPlain(head)) {
                t.true(w !== undefined && w.whole === null && w.qos > 0)
                t.is(text(head.bytes.subarray(head.start, head.start + head.size)), w!.text)
                t.is(head.qos, w!.qos)
                t.is(head.retain, w!.retain)
                t.is(head.topic, topics[w!.topic][0])
                t.is(head.topicBytes, topics[w!.topic][1])
            } else {
                t.true(w === undefined || w.whole !== null || w.qos === 0)
                const m = q.peek()
                check(m, w)
                if (m !== undefined && w!.whole === null) {
                    w!.whole = m
                }
            }
        }
        for (let op = 0; op < 8000; op++) {
            const k = r.int(100)
            if (k < 50 + (model.length < depth ? 10 : -10)) {
                /* Payloads from empty to past the size that gets a copy of its own; the caller reuses its buffer */
                const long = r.int(50) === 0
                const text = `${serial++}:` + (long ? 'x'.repeat(4100 + r.int(300)) : 'y'.repeat(r.int(40)))
                const payload = Buffer.from(text)
                const qos = r.int(3), retain = r.bool()
                /* Mostly runs of one topic (in some runs, a new topic almost every time) */
                if (r.int(run % 5 === 1 ? 2 : 20) === 0) {
                    current = r.int(topics.length)
                }
                const [name, bytes] = topics[current]
                if (r.int(8) === 0) {
                    const m = new OutMsg(OUT_PUBLISH, qos, retain, name, bytes, copyBytes(payload), new MqttWait(), 0)
                    q.push(m)
                    model.push({ text, qos, retain, topic: current, whole: m })
                } else {
                    q.pushPlain(name, bytes, payload, qos, retain)
                    model.push({ text, qos, retain, topic: current, whole: null })
                }
                payload.fill(0)
            } else if (k < 75) {
                check(q.shift(), model.shift())
            } else if (k < 85) {
                /* Sent from peekPlain's description (or peek's message), then dropped: the window's way */
                sent(model[0])
                q.drop()
                model.shift()
            } else if (k < 92) {
                /* Looked at and not sent (no id free): still there, made into a message that is then kept */
                const m = q.peek()
                check(m, model[0])
                if (m !== undefined && model[0].whole === null) {
                    model[0].whole = m
                }
            } else {
                sent(model[0])
            }
            t.is(q.length, model.length)
        }
        while (model.length > 0) {
            check(q.shift(), model.shift())
        }
        t.is(q.length, 0)
    }
})

test('OutQueue: a payload copied for one message is let go when the message leaves the queue, not when its segment does', t => {
    const q = new OutQueue()
    const big = Buffer.alloc(10_000, 0x41)
    const small = Buffer.alloc(16, 0x42)
    q.pushPlain('t', topic, small, 1, false)
    q.pushPlain('t', topic, big, 1, false)
    q.pushPlain('t', topic, small, 1, false)
    /* The segment's tables: what its slots hold besides their numbers (a look inside, as nothing outside can see it) */
    const tables = () => (q as unknown as { head: { buffers: Uint8Array[], topics: string[] } }).head
    t.deepEqual(tables().buffers.map(b => b.length), [65536, 10_000, 65536])
    t.deepEqual(tables().topics, ['t'])
    q.drop()
    q.drop()
    /* The copy is gone; the slab stays with the slot that still uses it */
    t.deepEqual(tables().buffers.map(b => b.length), [65536, 0, 65536])
    const m = q.shift()!
    t.is(text(m.payload), 'B'.repeat(16))
    /* Emptied, the segment starts over with empty tables */
    t.deepEqual(tables().buffers, [])
    t.deepEqual(tables().topics, [])
})

test('OutQueue: a slab whose payloads were all sent is written again, never one a message was made of (peek) while it lives; payloads whole over random runs', t => {
    const r = new Rng(3122026)
    const head = new PlainHead()
    /* Slabs seen and payloads queued in the runs that make no message of a plain slot (the client's window) */
    const slabs = new Set<Uint8Array>()
    let filled = 0
    for (let run = 0; run < 10; run++) {
        const peeks = run % 2 === 0 ? 3 : 0
        const q = new OutQueue()
        const model: { text: string, made: OutMsg | null }[] = []
        /* Messages made of plain slots (peek) that the app still holds after they left the queue */
        const live: { m: OutMsg, text: string }[] = []
        let serial = 0
        const depth = 20 + r.int(300)
        for (let op = 0; op < 6000; op++) {
            const k = r.int(100)
            if (k < 50 + (model.length < depth ? 10 : -10)) {
                /* Payloads up to the size that still goes into a slab */
                const text = `${serial++}:` + String.fromCharCode(97 + r.int(26)).repeat(r.int(4000))
                const payload = Buffer.from(text)
                q.pushPlain('t', topic, payload, 1 + r.int(2), false)
                payload.fill(0)
                model.push({ text, made: null })
            } else if ((k < 85 || peeks === 0) && model.length > 0) {
                /* The window's way: described in place, copied, dropped */
                const w = model.shift()!
                if (w.made === null && q.peekPlain(head)) {
                    t.is(text(head.bytes.subarray(head.start, head.start + head.size)), w.text)
                    if (peeks === 0) {
                        slabs.add(head.bytes)
                    }
                    q.drop()
                } else {
                    const m = q.shift()!
                    t.is(m, w.made ?? m)
                    t.is(text(m.payload), w.text)
                }
            } else if (k < 85 + peeks && model.length > 0) {
                /* Made into a message (the queue's policy drops it, or a QoS 0 one is sent from it), which lives on */
                const m = q.peek()!
                model[0].made = m
                live.push({ m, text: model[0].text })
            } else if (model.length > 0) {
                const m = q.shift()!
                t.is(text(m.payload), model.shift()!.text)
            }
            t.is(q.length, model.length)
        }
        if (peeks === 0) {
            filled += serial
        }
        while (model.length > 0) {
            t.is(text(q.shift()!.payload), model.shift()!.text)
        }
        /* What the app holds is as it was, however its slab's neighbours came and went */
        t.true(live.every(l => text(l.m.payload) === l.text))
        /* Emptied: no spare slab held */
        t.is((q as unknown as { spares: Uint8Array[] }).spares.length, 0)
    }
    /* About 2 KB a payload, 64 KiB a slab: slabs came back, far fewer were made */
    t.true(slabs.size * 4 < filled * 2000 / 65536, `${slabs.size} slabs for ${filled} payloads`)
})

test('OutQueue: a slab a message was made of, emptied while it is the one written to, is left for good and the slabs after it still come back', t => {
    const q = new OutQueue()
    const head = new PlainHead()
    /* 65 payloads of 1,000 bytes: the slab has no room for another */
    for (let i = 0; i < 65; i++) {
        q.pushPlain('t', topic, Buffer.from(`m${i}`.padEnd(1000, '.')), 1, false)
    }
    /* Made into a message (its payload a view of the slab written to), then every slot sent */
    const m = q.peek()!
    while (q.length > 0) {
        q.drop()
    }
    /* A window's worth at a time, kept about 200 deep: 3,000 payloads of 1,000 bytes, 46 slabs' worth */
    const slabs = new Set<Uint8Array>()
    let pushed = 0
    let sent = 0
    while (sent < 3000) {
        while (pushed < 3000 && q.length < 200) {
            q.pushPlain('t', topic, new Uint8Array(1000).fill(pushed++ & 0xff), 1, false)
        }
        for (let k = 0; k < 100 && q.length > 0; k++) {
            t.true(q.peekPlain(head))
            t.is(head.bytes[head.start], sent++ & 0xff)
            slabs.add(head.bytes)
            q.drop()
        }
    }
    t.is(text(m.payload), 'm0'.padEnd(1000, '.'))
    t.true(slabs.size <= 8, `${slabs.size} slabs`)
})
