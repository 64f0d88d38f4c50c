import test from 'ava'
import {
    encode, encodeConnect, encodeSubscribe, encodeUnsubscribe, MqttClientDecoder, MqttCodecError, MqttDecoder, PacketWriter, parse, parseFromServer, setDup, encodePublish, DISCONNECT_BYTES, PINGREQ_BYTES,
    type Packet,
} from '../../mqtt/index.js'
import { asClientReads, badFixtures, bytesOf, CLIENT_ONLY, fixtures } from './fixtures.js'
import { quietLogs } from '../helpers/quiet.js'
import { Rng } from './random.js'

quietLogs(test)

const bytesEqual = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.length).equals(b)

function decodeAll(chunks: Uint8Array[], max?: number): Packet[] {
    const out: Packet[] = []
    const d = new MqttDecoder(max)
    for (const c of chunks) {
        d.push(c, p => out.push(p))
    }
    return out
}

/** Decoded packets hold views: compare their contents */
function plain(p: Packet): unknown {
    return JSON.parse(JSON.stringify(p, (_k, v) => v instanceof Uint8Array ? Array.from(v) : v?.type === 'Buffer' && Array.isArray(v.data) ? v.data : v))
}

for (const f of fixtures) {
    const bytes = bytesOf(f.bytes)

    test(`parse: ${f.name}`, t => {
        const packets = decodeAll([bytes])
        t.is(packets.length, 1)
        t.deepEqual(plain(packets[0]), plain(f.packet))
    })

    test(`encode: ${f.name}`, t => {
        t.deepEqual(Array.from(encode(f.packet)), Array.from(bytes))
        const w = new PacketWriter(16)
        w.write(f.packet)
        t.deepEqual(Array.from(w.take()!), Array.from(bytes))
    })

    test(`round trip: ${f.name}`, t => {
        const again = decodeAll([encode(f.packet)])[0]
        t.deepEqual(plain(again), plain(f.packet))
        t.deepEqual(Array.from(encode(again)), Array.from(bytes))
    })

    test(`split at every offset: ${f.name}`, t => {
        for (let i = 0; i <= bytes.length; i++) {
            const packets = decodeAll([bytes.subarray(0, i), bytes.subarray(i)])
            t.is(packets.length, 1, `split at ${i}`)
            t.deepEqual(plain(packets[0]), plain(f.packet), `split at ${i}`)
        }
        /* one byte at a time */
        const single = decodeAll(Array.from(bytes, b => Uint8Array.of(b)))
        t.deepEqual(single.map(plain), [plain(f.packet)])
    })
}

test('all fixtures back to back, in one chunk and in three', t => {
    const all = fixtures.map(f => bytesOf(f.bytes))
    const stream = new Uint8Array(all.reduce((n, b) => n + b.length, 0))
    let pos = 0
    for (const b of all) {
        stream.set(b, pos)
        pos += b.length
    }
    const expected = fixtures.map(f => plain(f.packet))
    t.deepEqual(decodeAll([stream]).map(plain), expected)
    const third = Math.floor(stream.length / 3)
    t.deepEqual(decodeAll([stream.subarray(0, third), stream.subarray(third, 2 * third), stream.subarray(2 * third)]).map(plain), expected)
})

for (const f of badFixtures) {
    test(`refuse: ${f.name} ${f.rule}`, t => {
        const bytes = bytesOf(f.bytes)
        const d = new MqttDecoder()
        const err = t.throws(() => d.push(bytes, () => t.fail('no packet expected')), { instanceOf: MqttCodecError })
        t.is((err as MqttCodecError).code as string, f.code)
        t.is((err as MqttCodecError).rule, f.rule)
        t.true(err!.message.includes(f.rule))
        /* The decoder stays failed */
        t.throws(() => d.push(Uint8Array.of(0xc0, 0), () => undefined), { is: err })
    })
}

/* The client's decoder: what a server sends, exactly as parse reads it; what only a client sends as its type and id */
test('the client decoder reads every packet a server sends as parse does, and names the rest by type and id', t => {
    for (const f of fixtures) {
        const bytes = bytesOf(f.bytes)
        const out: Packet[] = []
        new MqttClientDecoder().push(bytes, p => out.push(p))
        t.is(out.length, 1, f.name)
        const expected = plain(asClientReads(f.packet) as Packet)
        t.deepEqual(plain(out[0]), expected, f.name)
        t.deepEqual(plain(parseFromServer(bytes, 0, bytes.length)), expected, f.name)
    }
})

for (const f of badFixtures.filter(b => !CLIENT_ONLY.has(bytesOf(b.bytes)[0] >> 4) || b.code === 'MQTT_BAD_FLAGS')) {
    test(`the client decoder refuses it too: ${f.name} ${f.rule}`, t => {
        const err = t.throws(() => new MqttClientDecoder().push(bytesOf(f.bytes), () => t.fail('no packet expected')), { instanceOf: MqttCodecError })
        t.is((err as MqttCodecError).code as string, f.code)
        t.is((err as MqttCodecError).rule, f.rule)
    })
}

/* What a client decoder gives with an AckSink, in order: acknowledgements as [type, id], the rest as packets */
function withAckSink(chunks: Uint8Array[]): unknown[] {
    const out: unknown[] = []
    const d = new MqttClientDecoder()
    for (const c of chunks) {
        d.push(c, p => out.push(plain(p)), (type, id) => out.push({ type, id, viaAckSink: true }))
    }
    return out
}

test('an AckSink takes each acknowledgement a parser would give, in order among the other packets', t => {
    const all = fixtures.map(f => bytesOf(f.bytes))
    const stream = Uint8Array.from(all.flatMap(b => Array.from(b)))
    const parsed: Packet[] = []
    new MqttClientDecoder().push(stream, p => parsed.push(p))
    const got = withAckSink([stream])
    t.is(got.length, parsed.length)
    let acks = 0
    parsed.forEach((p, i) => {
        const g = got[i] as { viaAckSink?: boolean, type: number, id: number }
        if (g.viaAckSink) {
            acks++
            t.true([4, 5, 6, 7, 11].includes(p.type))
            t.deepEqual({ type: g.type, id: g.id }, plain(p))
        } else {
            t.deepEqual(g, plain(p))
        }
    })
    t.true(acks >= 5)
    /* Split anywhere, the same messages in the same order (a split acknowledgement is assembled, then parsed) */
    const bytewise = withAckSink(Array.from(stream, b => Uint8Array.of(b)))
    t.deepEqual(bytewise.map(x => JSON.stringify({ ...(x as object), viaAckSink: undefined })), got.map(x => JSON.stringify({ ...(x as object), viaAckSink: undefined })))
})

test('with an AckSink, a bad acknowledgement is refused as the parser refuses it', t => {
    const cases = [
        [0x40, 0x02, 0x00, 0x00],       /* id 0 */
        [0x62, 0x02, 0x00, 0x00],
        [0x40, 0x81, 0x00, 0x01],       /* remaining length 1, in two bytes: total 4 */
        [0x41, 0x02, 0x00, 0x01],       /* reserved flags */
        [0x60, 0x02, 0x00, 0x01],       /* PUBREL without its required flags */
        [0xb0, 0x03, 0x00, 0x01, 0x00], /* UNSUBACK too long */
        ...badFixtures.filter(b => [4, 5, 6, 7, 11].includes(bytesOf(b.bytes)[0] >> 4)).map(b => Array.from(bytesOf(b.bytes))),
    ]
    for (const bytes of cases) {
        const chunk = Uint8Array.from(bytes)
        const plainErr = t.throws(() => new MqttClientDecoder().push(chunk, () => undefined), { instanceOf: MqttCodecError })
        const ackErr = t.throws(() => new MqttClientDecoder().push(chunk, () => undefined, () => t.fail(`no acknowledgement from ${bytes}`)), { instanceOf: MqttCodecError })
        t.is(ackErr!.message, plainErr!.message, String(bytes))
        t.is((ackErr as MqttCodecError).rule, (plainErr as MqttCodecError).rule)
    }
})

test('the client decoder still checks the packet id of a SUBSCRIBE or UNSUBSCRIBE it names', t => {
    for (const bytes of [[0x82, 0x01, 0x00], [0xa2, 0x00]]) {
        const err = t.throws(() => parseFromServer(Uint8Array.from(bytes), 0, bytes.length), { instanceOf: MqttCodecError })
        t.is((err as MqttCodecError).code as string, 'MQTT_BAD_LENGTH')
    }
    t.throws(() => parseFromServer(Uint8Array.of(0x82, 0x02, 0, 0), 0, 4), { instanceOf: MqttCodecError, message: /identifier 0/ })
    /* parse reads them whole */
    t.deepEqual(plain(parse(Uint8Array.of(0xa2, 0x05, 0, 7, 0, 1, 0x61), 0, 7)), { type: 10, id: 7, topics: ['a'] })
})

test('a client\'s own encoders give the bytes encode gives, and validate as it does', t => {
    const own = { 1: encodeConnect, 8: encodeSubscribe, 10: encodeUnsubscribe } as Record<number, (p: any) => Uint8Array>
    let n = 0
    for (const f of fixtures.filter(x => own[x.packet.type] !== undefined)) {
        t.deepEqual(Array.from(own[f.packet.type](f.packet)), Array.from(bytesOf(f.bytes)), f.name)
        n++
    }
    t.true(n >= 3)
    t.throws(() => encodeConnect({ type: 1, protocolName: 'MQTT', protocolLevel: 4, clean: false, keepAlive: 60, clientId: '', will: null, username: null, password: null }),
        { instanceOf: MqttCodecError, message: /clean session/ })
    t.throws(() => encodeSubscribe({ type: 8, id: 1, subscriptions: [{ topic: 'a/#/b', qos: 0 }] }), { instanceOf: MqttCodecError, message: /\[MQTT-4\.7\.1-2\]/ })
    t.throws(() => encodeUnsubscribe({ type: 10, id: 0, topics: ['a'] }), { instanceOf: MqttCodecError, message: /identifier 0/ })
})

test('a header claiming more than the maximum is refused as soon as the length is read', t => {
    const d = new MqttDecoder(1024)
    /* PUBLISH claiming 256 MB: only the fixed header has arrived */
    const err = t.throws(() => d.push(Uint8Array.of(0x30, 0xff, 0xff, 0xff, 0x7f), () => undefined), { instanceOf: MqttCodecError })
    t.is((err as MqttCodecError).code, 'MQTT_TOO_LARGE')
    t.regex(err!.message, /268435460 bytes exceeds the maximum packet size of 1024/)
    t.is(d.buffered, 0)
    /* Split header: refused on the byte that completes the length */
    const d2 = new MqttDecoder(100)
    d2.push(Uint8Array.of(0x30, 0x80), () => undefined)
    t.is(d2.buffered, 2)
    t.throws(() => d2.push(Uint8Array.of(0x01), () => undefined), { instanceOf: MqttCodecError })
    /* At the limit is fine */
    const exact = encodePublish('t', new Uint8Array(95), 0, false, false, 0)
    t.is(exact.length, 100)
    t.is(decodeAll([exact], 100).length, 1)
})

test('only the partial tail is kept; whole packets in a chunk are views into it', t => {
    const a = encode({ type: 3, dup: false, qos: 0, retain: false, topic: 'a', id: 0, payload: Uint8Array.of(1, 2, 3) })
    const chunk = new Uint8Array(a.length * 2)
    chunk.set(a)
    chunk.set(a.subarray(0, 4), a.length)
    const d = new MqttDecoder()
    const got: Packet[] = []
    d.push(chunk.subarray(0, a.length + 4), p => got.push(p))
    t.is(got.length, 1)
    t.is((got[0] as any).payload.buffer, chunk.buffer)
    t.is(d.buffered, 4)
    d.push(a.subarray(4), p => got.push(p))
    t.is(got.length, 2)
    t.is(d.buffered, 0)
    t.deepEqual(Array.from((got[1] as any).payload), [1, 2, 3])
})

test('encode refuses invalid packets with the rule', t => {
    const bad: [Packet, string][] = [
        [{ type: 3, dup: false, qos: 0, retain: false, topic: 'a/#', id: 0, payload: new Uint8Array(0) }, 'MQTT_BAD_TOPIC'],
        [{ type: 3, dup: false, qos: 0, retain: false, topic: '', id: 0, payload: new Uint8Array(0) }, 'MQTT_BAD_TOPIC'],
        [{ type: 3, dup: false, qos: 3, retain: false, topic: 'a', id: 1, payload: new Uint8Array(0) }, 'MQTT_BAD_QOS'],
        [{ type: 3, dup: false, qos: 1, retain: false, topic: 'a', id: 0, payload: new Uint8Array(0) }, 'MQTT_BAD_ID'],
        [{ type: 3, dup: true, qos: 0, retain: false, topic: 'a', id: 0, payload: new Uint8Array(0) }, 'MQTT_BAD_FLAGS'],
        [{ type: 3, dup: false, qos: 0, retain: false, topic: 'a\ud800', id: 0, payload: new Uint8Array(0) }, 'MQTT_BAD_TOPIC'],
        [{ type: 3, dup: false, qos: 0, retain: false, topic: 'a', id: 0, payload: 'text' as any }, 'MQTT_BAD_ARGS'],
        [{ type: 4, id: 70000 }, 'MQTT_BAD_ID'],
        [{ type: 8, id: 1, subscriptions: [] }, 'MQTT_EMPTY'],
        [{ type: 8, id: 1, subscriptions: [{ topic: 'a#', qos: 0 }] }, 'MQTT_BAD_FILTER'],
        [{ type: 8, id: 1, subscriptions: [{ topic: 'a', qos: 5 }] }, 'MQTT_BAD_QOS'],
        [{ type: 9, id: 1, granted: [3] }, 'MQTT_BAD_SUBACK'],
        [{ type: 9, id: 1, granted: [] }, 'MQTT_EMPTY'],
        [{ type: 10, id: 1, topics: [] }, 'MQTT_EMPTY'],
        [{ type: 10, id: 1, topics: ['+x'] }, 'MQTT_BAD_FILTER'],
        [{ type: 2, sessionPresent: false, returnCode: 6 }, 'MQTT_BAD_CONNACK'],
        [{ type: 2, sessionPresent: true, returnCode: 4 }, 'MQTT_BAD_CONNACK'],
        [{ type: 1, protocolName: 'MQTT', protocolLevel: 4, clean: true, keepAlive: 0, clientId: 'c', will: null, username: null, password: new Uint8Array(1) }, 'MQTT_BAD_CONNECT'],
        [{ type: 1, protocolName: 'MQIsdp', protocolLevel: 3, clean: true, keepAlive: 0, clientId: 'c', will: null, username: null, password: null }, 'MQTT_BAD_CONNECT'],
        [{ type: 1, protocolName: 'MQTT', protocolLevel: 4, clean: true, keepAlive: 70000, clientId: 'c', will: null, username: null, password: null }, 'MQTT_BAD_CONNECT'],
        [{ type: 1, protocolName: 'MQTT', protocolLevel: 4, clean: true, keepAlive: 0, clientId: 'x'.repeat(70000), will: null, username: null, password: null }, 'MQTT_BAD_STRING'],
        [{ type: 1, protocolName: 'MQTT', protocolLevel: 4, clean: true, keepAlive: 0, clientId: 'c', will: { topic: 'w/+', payload: new Uint8Array(0), qos: 0, retain: false }, username: null, password: null }, 'MQTT_BAD_TOPIC'],
        [{ type: 1, protocolName: 'MQTT', protocolLevel: 4, clean: true, keepAlive: 0, clientId: 'c', will: { topic: 'w', payload: new Uint8Array(70000), qos: 0, retain: false }, username: null, password: null }, 'MQTT_BAD_STRING'],
        [{ type: 1, protocolName: 'MQTT', protocolLevel: 4, clean: true, keepAlive: 0, clientId: 'c', will: { topic: 'w', payload: new Uint8Array(0), qos: 3, retain: false }, username: null, password: null }, 'MQTT_BAD_QOS'],
        [{ type: 1, protocolName: 'MQTT', protocolLevel: 4, clean: true, keepAlive: 0, clientId: 'nul\u0000', will: null, username: null, password: null }, 'MQTT_BAD_UTF8'],
        [{ type: 1, protocolName: 'MQTT', protocolLevel: 4, clean: false, keepAlive: 0, clientId: '', will: null, username: null, password: null }, 'MQTT_BAD_CONNECT'],
        [{ type: 99 } as any, 'MQTT_BAD_TYPE'],
    ]
    for (const [p, code] of bad) {
        const err = t.throws(() => encode(p), { instanceOf: MqttCodecError }, code)
        t.is((err as MqttCodecError).code as string, code)
    }
    const err = t.throws(() => encodePublish('t', new Uint8Array(268_435_456), 0, false, false, 0), { instanceOf: MqttCodecError })
    t.is((err as MqttCodecError).code, 'MQTT_TOO_LARGE')
})

test('DUP can be set on a kept PUBLISH for a resend; precomputed packets', t => {
    const bytes = encodePublish('a', Uint8Array.of(1), 1, false, false, 5)
    setDup(bytes, true)
    t.true((parse(bytes, 0, bytes.length) as any).dup)
    setDup(bytes, false)
    t.false((parse(bytes, 0, bytes.length) as any).dup)
    t.deepEqual(Array.from(PINGREQ_BYTES), [0xc0, 0])
    t.deepEqual(Array.from(DISCONNECT_BYTES), [0xe0, 0])
})

test('the writer packs many packets into one buffer and never overwrites what it handed out', t => {
    const w = new PacketWriter(1024)
    const topic = new TextEncoder().encode('\u0000\u0001t')
    topic[0] = 0
    topic[1] = 1
    for (let i = 1; i <= 10; i++) {
        w.publish(topic, Uint8Array.of(i), 1, false, false, i)
        w.ack(0x40, i)
    }
    w.bytes(PINGREQ_BYTES)
    t.is(w.length, 10 * (2 + 3 + 2 + 1) + 10 * 4 + 2)
    const first = w.take()!
    const copy = Array.from(first)
    for (let i = 0; i < 200; i++) {
        w.publish(topic, new Uint8Array(100), 0, false, false, 0)
        w.take()
    }
    t.deepEqual(Array.from(first), copy)
    t.is(w.take(), null)
    const packets = decodeAll([first])
    t.is(packets.length, 21)
    t.deepEqual(packets.slice(0, 2).map(plain), [
        { type: 3, dup: false, qos: 1, retain: false, topic: 't', id: 1, payload: [1] },
        { type: 4, id: 1 },
    ])
    /* A packet larger than a slab */
    w.publish(topic, new Uint8Array(5000), 0, false, false, 0)
    t.is(w.take()!.length, 1 + 2 + 3 + 5000)
})

test('a writer filled far past its slab size without a take() moves what it holds a bounded number of times, and loses nothing', t => {
    const w = new PacketWriter()
    const topic = Uint8Array.of(0, 1, 0x74)
    const payload = new Uint8Array(1024).fill(7)
    const slabs = new Set<Uint8Array>()
    /* 2 MiB in 2,000 packets: each new slab has room for as much again as it took over (a slab just large
       enough made a new one, and a copy of everything held, for every packet past the first 64 KiB) */
    for (let i = 0; i < 2000; i++) {
        w.publishKeepRange(topic, payload, 0, payload.length, 1, false, i + 1)
        slabs.add(w.current)
    }
    t.true(slabs.size <= 16, `${slabs.size} slabs`)
    const all = w.take()!
    t.is(all.length, 2000 * (1 + 2 + 3 + 2 + 1024))
    const packets = decodeAll([all]) as { type: number, id: number, payload: Uint8Array }[]
    t.is(packets.length, 2000)
    t.true(packets.every((p, i) => p.type === 3 && p.id === i + 1 && p.payload.length === 1024 && p.payload[1023] === 7))
})

test('a writer whose owner takes what is pending when a slab is full (onFull) moves no byte, grows its slabs as before, and loses nothing', t => {
    const w = new PacketWriter(128 * 1024)
    const topic = Uint8Array.of(0, 1, 0x74)
    const out: Uint8Array[] = []
    let calls = 0
    w.onFull = () => {
        calls++
        out.push(w.take()!)
    }
    const slabs: Uint8Array[] = []
    let copied = 0
    for (let i = 0; i < 3000; i++) {
        const payload = new Uint8Array(i % 7 === 0 ? 3000 : 1 + (i % 1000)).fill(i & 0xff)
        const before = w.current
        w.publish(topic, payload, 1, false, false, (i % 65535) + 1)
        if (w.current !== before) {
            slabs.push(w.current)
            /* A new slab starts with the packet just written: nothing pending was carried over */
            copied += w.position - encodePublish('t', payload, 1, false, false, (i % 65535) + 1).length
        }
        /* Half a slab at times, as a client flushes at 64 KiB */
        if (w.length >= 64 * 1024) {
            out.push(w.take()!)
        }
    }
    out.push(w.take()!)
    t.true(calls > 10, `${calls} calls`)
    t.is(copied, 0)
    /* Slabs grew to their full size (1 KiB, 4 KiB, 16 KiB, 64 KiB, then 128 KiB) */
    t.true(slabs.filter(s => s.length < 128 * 1024).length <= 4)
    const packets = decodeAll(out) as { id: number, payload: Uint8Array }[]
    t.is(packets.length, 3000)
    t.true(packets.every((p, i) => p.id === (i % 65535) + 1 && p.payload.length === (i % 7 === 0 ? 3000 : 1 + (i % 1000)) && p.payload[0] === (i & 0xff)))
    /* An owner that takes nothing: what is pending moves, as without onFull */
    const v = new PacketWriter(1024)
    v.onFull = () => undefined
    for (let i = 0; i < 100; i++) v.publish(topic, new Uint8Array(100), 0, false, false, 0)
    t.is(decodeAll([v.take()!]).length, 100)
})

test('a writer whose taken bytes were consumed at once (reuse(true)) writes its slab again from the start, never over a kept packet, and grows as before', t => {
    const topic = Uint8Array.of(0, 1, 0x74)
    const payload = new Uint8Array(1024)
    /* An owner that hands each take to a consumer that copies it at once, as a socket that took every byte
       (Uint8Array.from: a Buffer's slice() is a view) */
    const w = new PacketWriter()
    const got: Uint8Array[] = []
    const slabs = new Set<ArrayBufferLike>()
    const consume = () => {
        const b = w.take(true)
        if (b !== null) {
            got.push(Uint8Array.from(b))
            w.reuse(true)
        }
    }
    w.onFull = consume
    for (let i = 0; i < 2000; i++) {
        payload.fill(i & 0xff)
        w.publish(topic, payload, 0, false, false, 0)
        slabs.add(w.current.buffer)
        if (i % 100 === 99) {
            consume()
        }
    }
    consume()
    /* 2 MiB through the slabs a writer grows (1, 4, 16, 64 KiB), the last written again and again */
    t.true(slabs.size <= 5, `${slabs.size} slabs`)
    t.is(w.current.length, 64 * 1024)
    const packets = decodeAll(got) as { payload: Uint8Array }[]
    t.is(packets.length, 2000)
    t.true(packets.every((p, i) => p.payload.length === 1024 && p.payload[0] === (i & 0xff) && p.payload[1023] === (i & 0xff)))
    t.true(got.length < 80, `${got.length} takes`)

    /* A kept packet (in flight, resent from the slab) is never written over */
    const k = new PacketWriter(4096)
    for (let i = 0; i < 4; i++) {
        k.publish(topic, new Uint8Array(3000), 0, false, false, 0)
    }
    k.take(true)
    k.reuse(true)
    t.is(k.position, 0)
    const at = k.publishKeep(topic, Uint8Array.of(1, 2, 3), 1, false, 7, null, null)
    const slab = k.current
    t.true(slab.length > 1024)
    const kept = Uint8Array.from(slab.subarray(at, k.position))
    k.take(true)
    k.reuse(true)
    t.is(k.position, at + kept.length)
    for (let i = 0; i < 50; i++) {
        k.publish(topic, new Uint8Array(10).fill(9), 0, false, false, 0)
        k.take(true)
        k.reuse(true)
    }
    t.deepEqual(Array.from(slab.subarray(at, at + kept.length)), Array.from(kept))
    t.deepEqual(plain(decodeAll([kept])[0]), { type: 3, dup: false, qos: 1, retain: false, topic: 't', id: 7, payload: [1, 2, 3] })

    /* Bytes still held by the consumer (reuse(false)): never written over, as take() */
    const h = new PacketWriter(4096)
    h.publish(topic, new Uint8Array(2000), 0, false, false, 0)
    const held = h.take(true)!
    const copy = Uint8Array.from(held)
    h.reuse(false)
    h.publish(topic, new Uint8Array(1000).fill(5), 0, false, false, 0)
    t.deepEqual(held, copy)
    /* A quiet writer's small slab is let go, consumed or not */
    const q = new PacketWriter()
    q.ack(0x40, 1)
    const small = q.current
    q.take(true)
    q.reuse(true)
    t.is(q.current.length, 0)
    t.is(small.length, 1024)
    t.is(q.take(true), null)
})

test('a writer writes a slab again once every kept packet in it is released and a later write was consumed at once: kept and held bytes stay whole over random runs', t => {
    const r = new Rng(20261203)
    const topic = Uint8Array.of(0, 1, 0x74)
    let fills = 0
    const slabs = new Set<Uint8Array>()
    for (let run = 0; run < 20; run++) {
        const w = new PacketWriter(8192)
        /* Packets in flight: where they are, and a copy of their bytes */
        const kept: { slab: Uint8Array, start: number, copy: Uint8Array }[] = []
        /* Bytes handed to a consumer that has not used them up yet (a socket that backed up) */
        const held: { view: Uint8Array, copy: Uint8Array }[] = []
        let id = 0
        let last = w.current
        const intact = () => {
            for (const k of kept) {
                if (!bytesEqual(k.slab.subarray(k.start, k.start + k.copy.length), k.copy)) {
                    return false
                }
            }
            return held.every(h => bytesEqual(h.view, h.copy))
        }
        for (let op = 0; op < 1500; op++) {
            const k = r.int(100)
            if (k < 45 && kept.length < 40) {
                /* A QoS 1 PUBLISH kept for resending, or a QoS 0 one that is not (most of them, in every other run) */
                const payload = new Uint8Array(50 + r.int(1500)).fill(op & 0xff)
                if (r.int(10) < (run % 2 === 0 ? 2 : 9)) {
                    w.publish(topic, payload, 0, false, false, 0)
                } else {
                    id = id % 65535 + 1
                    const start = w.publishKeep(topic, payload, 1, false, id, null, null)
                    kept.push({ slab: w.current, start, copy: Uint8Array.from(w.current.subarray(start, w.position)) })
                }
                if (w.current !== last) {
                    last = w.current
                    fills++
                    slabs.add(last)
                }
            } else if (k < 70 && kept.length > 0) {
                /* Acknowledged, in any order */
                const [done] = kept.splice(r.int(Math.min(kept.length, 8)), 1)
                w.release(done.slab)
            } else {
                /* A write: used up at once, or held until a later write is */
                const b = w.take(true)
                if (b !== null) {
                    const consumed = r.int(3) !== 0
                    if (consumed) {
                        held.length = 0
                    } else {
                        held.push({ view: b, copy: Uint8Array.from(b) })
                    }
                    w.reuse(consumed)
                }
            }
            if (!intact()) {
                t.fail(`run ${run}, step ${op}: bytes in flight or held were written over`)
                return
            }
        }
        /* The link goes (its socket may still send what it holds): no slab in use then is written again, whatever
           is released after (free slabs, whose bytes were used up, may be) */
        const before = new Set([w.current, ...kept.map(k => k.slab)].filter(slab => slab.length > 0))
        w.detach()
        for (const k of kept.splice(0)) {
            w.release(k.slab)
        }
        for (let i = 0; i < 40; i++) {
            w.publishKeep(topic, new Uint8Array(1000), 1, false, i + 1, null, null)
            w.take(true)
            w.reuse(true)
            t.false(before.has(w.current))
        }
    }
    /* Slabs came back: far fewer than were filled */
    t.true(slabs.size * 3 < fills, `${slabs.size} slabs for ${fills} fills`)
    /* A writer gone quiet holds no free slab */
    const q = new PacketWriter(4096)
    const first: Uint8Array[] = []
    for (let i = 0; i < 36; i++) {
        q.publishKeep(topic, new Uint8Array(1000), 1, false, i + 1, null, null)
        first.push(q.current)
        if (i % 3 === 2) {
            q.take(true)
            q.reuse(false)
        }
    }
    for (const s of first) q.release(s)
    q.reuse(true)
    const free = (q as unknown as { free: Uint8Array[] }).free
    t.is(free.length, 4)
    /* Then quiet: small writes, no new slab; 64 takes after the last new slab, the free slabs are let go */
    const quietTakes = (n: number) => {
        for (let i = 0; i < n; i++) {
            q.ack(0x40, i + 1)
            q.take(true)
            q.reuse(true)
        }
    }
    quietTakes(32)
    t.is(free.length, 4)
    quietTakes(33)
    t.is(free.length, 0)
    /* Past the slab it writes (four such packets fill it): a new one, none of those it had */
    for (let i = 0; i < 5; i++) {
        q.publishKeep(topic, new Uint8Array(1000), 1, false, 99 + i, null, null)
    }
    t.false(first.includes(q.current))
})

test('topic names repeat from a cache of the last one: the same bytes give the same string; other bytes are checked as ever', t => {
    const pub = (topic: string) => encode({ type: 3, qos: 0, dup: false, retain: false, id: 0, topic, payload: new Uint8Array(1) })
    const raw = (topicBytes: number[]) => Uint8Array.from([0x30, 2 + topicBytes.length + 1, 0, topicBytes.length, ...topicBytes, 7])
    const topics: string[] = []
    const d = new MqttDecoder()
    for (const topic of ['a/b', 'a/b', 'a/c', 'a/c', 'é/x', 'é/x', 'a/b']) {
        d.push(pub(topic), p => { topics.push((p as { topic: string }).topic) })
    }
    t.deepEqual(topics, ['a/b', 'a/b', 'a/c', 'a/c', 'é/x', 'é/x', 'a/b'])
    /* Same length as the cached 'a/b', but a wildcard, a NUL or bad UTF-8: refused */
    for (const bad of [[0x61, 0x2f, 0x2b], [0x61, 0x00, 0x62], [0x61, 0x2f, 0xff]]) {
        t.throws(() => parse(raw(bad), 0, raw(bad).length), { instanceOf: MqttCodecError })
    }
    /* Many different topics in a row (the cache rests), then one repeated: right every time */
    const many: string[] = []
    const d2 = new MqttDecoder()
    for (let i = 0; i < 600; i++) {
        const topic = i < 500 ? `dev/${i}/t` : 'dev/same/t'
        d2.push(pub(topic), p => { many.push((p as { topic: string }).topic) })
    }
    t.deepEqual(many, Array.from({ length: 600 }, (_, i) => i < 500 ? `dev/${i}/t` : 'dev/same/t'))
    t.throws(() => parse(raw([0x61, 0x2f, 0x2b]), 0, 6), { instanceOf: MqttCodecError })
})
