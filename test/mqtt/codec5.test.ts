/*
    The MQTT 5.0 codec: every packet type with every property it may carry round-trips; it agrees with
    mqtt-packet in version 5 mode both ways (ours encoded, theirs parsed; theirs generated, ours parsed);
    packet streams split at every offset decode the same; each rule a receiver must enforce is refused with
    its citation; and random corruption never throws anything but MqttCodecError.
 */
import test from 'ava'
import mqttPacket from 'mqtt-packet'
import { MqttCodecError } from '../../mqtt/codec/errors.js'
import {
    encode5, parse5, Mqtt5Decoder, propertiesSize, readProperties, writeProperties, reasonName, PROPERTY_DEFS,
    type Packet5, type Properties,
} from '../../mqtt/codec/index5.js'

const bytes = (s: string) => new TextEncoder().encode(s)

const PACKETS: Packet5[] = [
    {
        type: 1, protocolName: 'MQTT', protocolLevel: 5, clean: true, keepAlive: 60, clientId: 'dev-1',
        will: { topic: 'dev/1/gone', payload: bytes('bye'), qos: 1, retain: true, properties: {
            willDelayInterval: 30, payloadFormatIndicator: 1, messageExpiryInterval: 600, contentType: 'text/plain',
            responseTopic: 'dev/1/r', correlationData: bytes('c1'), userProperties: [['k', 'v']],
        } },
        username: 'user', password: bytes('pass'),
        properties: { sessionExpiryInterval: 3600, receiveMaximum: 20, maximumPacketSize: 65536, topicAliasMaximum: 10,
            requestResponseInformation: 1, requestProblemInformation: 0, userProperties: [['a', '1'], ['a', '2']],
            authenticationMethod: 'SCRAM-SHA-1', authenticationData: bytes('client-first') },
    },
    { type: 1, protocolName: 'MQTT', protocolLevel: 5, clean: false, keepAlive: 0, clientId: '', will: null, username: null, password: null, properties: {} },
    {
        type: 2, sessionPresent: true, reasonCode: 0, properties: {
            sessionExpiryInterval: 120, receiveMaximum: 100, maximumQos: 1, retainAvailable: 0, maximumPacketSize: 1 << 20,
            assignedClientIdentifier: 'auto-7', topicAliasMaximum: 16, reasonString: 'welcome', userProperties: [['x', 'y']],
            wildcardSubscriptionAvailable: 1, subscriptionIdentifierAvailable: 1, sharedSubscriptionAvailable: 0,
            serverKeepAlive: 30, responseInformation: 'resp/', serverReference: 'other:1883', authenticationMethod: 'm', authenticationData: bytes('d'),
        },
    },
    { type: 2, sessionPresent: false, reasonCode: 0x87, properties: { reasonString: 'no' } },
    {
        type: 3, dup: true, qos: 2, retain: true, topic: 'a/b', id: 7, payload: bytes('hello'), properties: {
            payloadFormatIndicator: 1, messageExpiryInterval: 10, topicAlias: 3, responseTopic: 'r/1', correlationData: bytes('id-9'),
            userProperties: [['u', 'v'], ['u', 'w']], subscriptionIdentifiers: [1, 268_435_455], contentType: 'application/json',
        },
    },
    { type: 3, dup: false, qos: 0, retain: false, topic: '', id: 0, payload: new Uint8Array(0), properties: { topicAlias: 3 } },
    { type: 3, dup: false, qos: 1, retain: false, topic: 't', id: 65535, payload: new Uint8Array(300).fill(9), properties: {} },
    { type: 4, id: 1, reasonCode: 0, properties: {} },
    { type: 4, id: 2, reasonCode: 0x10, properties: {} },
    { type: 5, id: 3, reasonCode: 0x87, properties: { reasonString: 'denied', userProperties: [['why', 'acl']] } },
    { type: 6, id: 4, reasonCode: 0x92, properties: {} },
    { type: 7, id: 5, reasonCode: 0, properties: { reasonString: 'ok' } },
    {
        type: 8, id: 9, properties: { subscriptionIdentifiers: [42], userProperties: [['s', 't']] }, subscriptions: [
            { topic: 'a/#', qos: 2, noLocal: true, retainAsPublished: true, retainHandling: 2 },
            { topic: '$share/g/b/+', qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 1 },
            { topic: 'c', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 },
        ],
    },
    { type: 9, id: 9, reasonCodes: [0, 1, 2, 0x80, 0x87, 0x9e, 0xa1, 0xa2], properties: { reasonString: 'partly' } },
    { type: 10, id: 10, topics: ['a/#', 'b'], properties: { userProperties: [['k', 'v']] } },
    { type: 11, id: 10, reasonCodes: [0, 0x11], properties: {} },
    { type: 12 },
    { type: 13 },
    { type: 14, reasonCode: 0, properties: {} },
    { type: 14, reasonCode: 0x9c, properties: { serverReference: 'b2:1883', reasonString: 'move', sessionExpiryInterval: 0 } },
    { type: 15, reasonCode: 0x18, properties: { authenticationMethod: 'SCRAM-SHA-1', authenticationData: bytes('server-first') } },
    { type: 15, reasonCode: 0, properties: {} },
]

/* Plain data for comparison: bytes as arrays, absent as absent */
function plain(x: unknown): unknown {
    return JSON.parse(JSON.stringify(x, (_k, v) => v instanceof Uint8Array ? { bytes: [...v] } : v))
}

test('every packet type with every property it may carry: encoded, parsed back the same', t => {
    for (const p of PACKETS) {
        const wire = encode5(p)
        t.deepEqual(plain(parse5(wire, 0, wire.length)), plain(p), JSON.stringify(plain(p)).slice(0, 80))
    }
})

test('acknowledgements take their shortest form: no reason code when 0 and no properties', t => {
    t.deepEqual([...encode5({ type: 4, id: 1, reasonCode: 0, properties: {} })], [0x40, 2, 0, 1])
    t.deepEqual([...encode5({ type: 4, id: 1, reasonCode: 0x10, properties: {} })], [0x40, 3, 0, 1, 0x10])
    t.deepEqual([...encode5({ type: 14, reasonCode: 0, properties: {} })], [0xe0, 0])
    t.deepEqual([...encode5({ type: 15, reasonCode: 0, properties: {} })], [0xf0, 0])
    /* And a receiver takes every form */
    t.like(parse5(Uint8Array.of(0x50, 3, 0, 1, 0x87), 0, 5), { reasonCode: 0x87, properties: {} })
    t.like(parse5(Uint8Array.of(0x62, 4, 0, 1, 0x92, 0), 0, 6), { type: 6, reasonCode: 0x92, properties: {} })
    t.like(parse5(Uint8Array.of(0xe0, 1, 0x8e), 0, 3), { type: 14, reasonCode: 0x8e })
    /* A 3.1.1 server's refusal of version 5 (CONNACK 1, no property list) reads as Unsupported Protocol Version */
    t.deepEqual(parse5(Uint8Array.of(0x20, 2, 0, 1), 0, 4), { type: 2, sessionPresent: false, reasonCode: 0x84, properties: {} })
    t.throws(() => parse5(Uint8Array.of(0x20, 3, 0, 1, 0), 0, 5), { message: /CONNACK may not carry Granted QoS 1/ })
    t.is(reasonName(0x87), 'Not authorized')
    t.is(reasonName(0x7f), 'reason code 0x7f')
})

/* Properties mqtt-packet takes as booleans */
const FLAGS = new Set(['payloadFormatIndicator', 'requestResponseInformation', 'requestProblemInformation', 'retainAvailable',
    'wildcardSubscriptionAvailable', 'subscriptionIdentifierAvailable', 'sharedSubscriptionAvailable'])

/* mqtt-packet's names and shapes for the same properties */
function toTheirs(props: Properties): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(props)) {
        if (k === 'userProperties') {
            const o: Record<string, string | string[]> = {}
            for (const [n, val] of v as [string, string][]) {
                const prior = o[n]
                o[n] = prior === undefined ? val : Array.isArray(prior) ? [...prior, val] : [prior, val]
            }
            out.userProperties = o
        } else if (k === 'subscriptionIdentifiers') {
            const list = v as number[]
            out.subscriptionIdentifier = list.length === 1 ? list[0] : list
        } else if (FLAGS.has(k)) {
            out[k === 'subscriptionIdentifierAvailable' ? 'subscriptionIdentifiersAvailable' : k] = v === 1
        } else if (k === 'maximumQos') {
            out.maximumQoS = v
        } else if (k === 'subscriptionIdentifierAvailable') {
            out.subscriptionIdentifiersAvailable = v
        } else {
            out[k] = v instanceof Uint8Array ? Buffer.from(v) : v
        }
    }
    return out
}

/* Both sides' properties in one shape: flags as 0/1, user properties as sorted pairs, ids as a list */
function normal(props: Record<string, unknown> | undefined): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(props ?? {})) {
        const key = k === 'maximumQoS' ? 'maximumQos' : k === 'subscriptionIdentifiersAvailable' ? 'subscriptionIdentifierAvailable' :
            k === 'subscriptionIdentifier' ? 'subscriptionIdentifiers' : k
        let val: unknown = v
        if (typeof v === 'boolean') val = v ? 1 : 0
        if (v instanceof Uint8Array) val = [...v]
        if (key === 'subscriptionIdentifiers') val = Array.isArray(v) ? v : [v]
        if (key === 'userProperties') {
            const pairs = Array.isArray(v) ? v as [string, string][] :
                Object.entries(v as Record<string, string | string[]>).flatMap(([n, x]) => (Array.isArray(x) ? x : [x]).map(y => [n, y]))
            val = pairs.map(p => p.join('=')).sort()
        }
        out[key] = val
    }
    return out
}

function toTheirPacket(p: Packet5): Record<string, unknown> {
    switch (p.type) {
    case 1: return { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: p.clean, keepalive: p.keepAlive, clientId: p.clientId,
        username: p.username ?? undefined, password: p.password === null ? undefined : Buffer.from(p.password), properties: toTheirs(p.properties),
        will: p.will === null ? undefined : { topic: p.will.topic, payload: Buffer.from(p.will.payload), qos: p.will.qos, retain: p.will.retain, properties: toTheirs(p.will.properties) } }
    case 2: return { cmd: 'connack', sessionPresent: p.sessionPresent, reasonCode: p.reasonCode, properties: toTheirs(p.properties) }
    case 3: return { cmd: 'publish', topic: p.topic, payload: Buffer.from(p.payload), qos: p.qos, retain: p.retain, dup: p.dup, messageId: p.qos > 0 ? p.id : undefined, properties: toTheirs(p.properties) }
    case 4: case 5: case 6: case 7: return { cmd: ['puback', 'pubrec', 'pubrel', 'pubcomp'][p.type - 4], messageId: p.id, reasonCode: p.reasonCode, properties: toTheirs(p.properties) }
    case 8: return { cmd: 'subscribe', messageId: p.id, properties: toTheirs(p.properties), subscriptions: p.subscriptions.map(s => ({ topic: s.topic, qos: s.qos, nl: s.noLocal, rap: s.retainAsPublished, rh: s.retainHandling })) }
    case 9: case 11: return { cmd: p.type === 9 ? 'suback' : 'unsuback', messageId: p.id, granted: p.reasonCodes, reasonCode: p.reasonCodes[0], properties: toTheirs(p.properties) }
    case 10: return { cmd: 'unsubscribe', messageId: p.id, unsubscriptions: p.topics, properties: toTheirs(p.properties) }
    case 12: return { cmd: 'pingreq' }
    case 13: return { cmd: 'pingresp' }
    default: return { cmd: p.type === 14 ? 'disconnect' : 'auth', reasonCode: p.reasonCode, properties: toTheirs(p.properties) }
    }
}

/* The fields both codecs carry, from either side's packet */
function essence(x: Record<string, any>): Record<string, unknown> {
    const cmd = x.cmd as string | undefined
    const type = cmd === undefined ? x.type : ['', 'connect', 'connack', 'publish', 'puback', 'pubrec', 'pubrel', 'pubcomp', 'subscribe', 'suback', 'unsubscribe', 'unsuback', 'pingreq', 'pingresp', 'disconnect', 'auth'].indexOf(cmd)
    const e: Record<string, unknown> = { type }
    const props = normal(x.properties)
    if (type >= 2 && type !== 12 && type !== 13) e.properties = props
    switch (type) {
    case 1:
        Object.assign(e, { clean: x.clean, keepAlive: x.keepalive ?? x.keepAlive, clientId: x.clientId, username: x.username ?? null,
            password: x.password ? [...x.password] : null, properties: props,
            will: x.will ? { topic: x.will.topic, payload: [...x.will.payload], qos: x.will.qos, retain: x.will.retain, properties: normal(x.will.properties) } : null })
        break
    case 2: Object.assign(e, { sessionPresent: x.sessionPresent, reasonCode: x.reasonCode ?? x.returnCode ?? 0 }); break
    case 3: Object.assign(e, { topic: x.topic, qos: x.qos, retain: x.retain, dup: x.dup, id: x.qos > 0 ? x.messageId ?? x.id : 0, payload: [...x.payload] }); break
    case 4: case 5: case 6: case 7: Object.assign(e, { id: x.messageId ?? x.id, reasonCode: x.reasonCode ?? 0 }); break
    case 8: Object.assign(e, { id: x.messageId ?? x.id, subscriptions: x.subscriptions.map((s: any) => [s.topic, s.qos, !!(s.nl ?? s.noLocal), !!(s.rap ?? s.retainAsPublished), s.rh ?? s.retainHandling]) }); break
    case 9: case 11: Object.assign(e, { id: x.messageId ?? x.id, codes: x.granted ?? x.reasonCodes }); break
    case 10: Object.assign(e, { id: x.messageId ?? x.id, topics: x.unsubscriptions ?? x.topics }); break
    case 14: case 15: Object.assign(e, { reasonCode: x.reasonCode ?? 0 }); break
    }
    return e
}

function theirParse(wire: Uint8Array): Record<string, unknown>[] {
    const parser = mqttPacket.parser({ protocolVersion: 5 })
    const got: Record<string, unknown>[] = []
    const errors: Error[] = []
    parser.on('packet', p => got.push(p as unknown as Record<string, unknown>))
    parser.on('error', e => errors.push(e))
    parser.parse(Buffer.from(wire))
    if (errors.length > 0) throw errors[0]
    return got
}

test('differential with mqtt-packet (version 5): ours parsed by theirs, theirs parsed by ours', t => {
    /* mqtt-packet refuses an empty client id without Clean Start (3.1.1's rule [MQTT-3.1.3-7]; 5.0 leaves it to the server) */
    for (const p of PACKETS.filter(x => !(x.type === 1 && x.clientId === '' && !x.clean))) {
        const ours = encode5(p)
        const theirs = mqttPacket.generate(toTheirPacket(p) as never, { protocolVersion: 5 })
        const name = `${p.type} ${JSON.stringify(plain(p)).slice(0, 60)}`
        if (p.type === 15 && ours.length === 2) {
            /* An AUTH of remaining length 0 is Success without properties [MQTT5-3.15.2.1]; mqtt-packet refuses it */
            t.throws(() => theirParse(ours), { message: /Invalid auth reason code/ })
            t.like(parse5(ours, 0, 2), { type: 15, reasonCode: 0 })
            continue
        }
        const parsedByThem = theirParse(ours)
        t.is(parsedByThem.length, 1, name)
        t.deepEqual(essence(parsedByThem[0]), essence(p as never), `theirs reading ours: ${name}`)
        t.deepEqual(essence(parse5(theirs, 0, theirs.length) as never), essence(p as never), `ours reading theirs: ${name}`)
    }
})

test('a stream of every packet, split at every offset, decodes the same', t => {
    const wires = PACKETS.filter(p => p.type !== 1 || p.clientId !== '').map(encode5)
    const stream = new Uint8Array(wires.reduce((n, w) => n + w.length, 0))
    let at = 0
    for (const w of wires) { stream.set(w, at); at += w.length }
    const want = plain(wires.map(w => parse5(w, 0, w.length)))
    for (let cut = 0; cut <= stream.length; cut++) {
        const d = new Mqtt5Decoder()
        const got: Packet5[] = []
        d.push(stream.slice(0, cut), p => got.push(p))
        d.push(stream.slice(cut), p => got.push(p))
        if (JSON.stringify(plain(got)) !== JSON.stringify(want)) {
            t.fail(`split at ${cut}`)
            return
        }
    }
    t.pass()
})

const hex = (s: string) => Uint8Array.from(s.trim().split(/\s+/).map(h => parseInt(h, 16)))

const REFUSED: [string, Uint8Array, RegExp][] = [
    ['a property given twice', hex('20 09 00 00 06 11 00 00 00 01 11'), /sessionExpiryInterval appears more than once in CONNACK \[MQTT5-2.2.2.2\]/],
    ['a property the packet may not carry', hex('40 05 00 01 00 02 23 00'), /topicAlias .* may not appear in PUBACK/],
    ['an unknown property', hex('e0 03 00 01 7f'), /Unknown property identifier 0x7f in DISCONNECT/],
    ['Topic Alias 0', hex('30 08 00 01 61 03 23 00 00 58'), /topicAlias must be an integer from 1 to 65535 .* \[MQTT-3.3.2-8\]/],
    ['Receive Maximum 0', hex('20 06 00 00 03 21 00 00'), /receiveMaximum .* \[MQTT5-3.1.2.11.3\]/],
    ['Maximum QoS 2', hex('20 05 00 00 02 24 02'), /maximumQos .* \[MQTT5-3.2.2.3.4\]/],
    ['Subscription Identifier 0', hex('82 0a 00 01 02 0b 00 00 01 61 00 00'), /subscriptionIdentifiers must be an integer from 1 .* \[MQTT5-3.8.2.1.2\]/],
    ['a reason code the packet may not carry', hex('40 03 00 01 92'), /PUBACK may not carry Packet Identifier not found \(0x92\) \[MQTT5-2.4\]/],
    ['a reserved CONNACK reason', hex('20 03 00 05 00'), /CONNACK may not carry reason code 0x05/],
    ['session present on a refusal', hex('20 03 01 87 00'), /\[MQTT-3.2.2-6\]/],
    ['subscription options with reserved bits', hex('82 07 00 01 00 00 01 61 40'), /reserved bits set \[MQTT-3.8.3-5\]/],
    ['Retain Handling 3', hex('82 07 00 01 00 00 01 61 30'), /Retain Handling 3/],
    ['No Local on a shared subscription', hex('82 10 00 01 00 00 0a 24 73 68 61 72 65 2f 67 2f 61 04'), /No Local on a shared subscription \[MQTT-3.8.3-4\]/],
    ['an empty topic without a Topic Alias', hex('30 03 00 00 00'), /empty topic and no Topic Alias/],
    ['a non-minimal Variable Byte Integer', hex('e0 04 00 80 00 00'), /not in its shortest form \[MQTT-1.5.5-1\]/],
    ['properties longer than the packet', hex('40 04 00 01 00 05'), /run past the end of the packet/],
    ['a property value past the end', hex('40 06 00 01 00 02 1f 00'), /reasonString runs past the end/],
    ['a CONNECT of version 4', hex('10 0d 00 04 4d 51 54 54 04 02 00 3c 00 01 61 00 00'.replace('0d', '0c').replace(' 00 00', ' 00')), /Protocol version 4 is not 5/],
    ['AUTH with flags', hex('f1 00'), /AUTH with reserved flags/],
    ['PINGRESP with a body', hex('d0 01 00'), /remaining length must be 0/],
    ['SUBACK without a code', hex('90 03 00 01 00'), /SUBACK without a reason code/],
    ['bytes after a DISCONNECT', hex('e0 03 00 00 ff'), /has 1 bytes after its end|properties/],
]

for (const [name, wire, message] of REFUSED) {
    test(`refused: ${name}`, t => {
        const err = t.throws(() => parse5(wire, 0, wire.length), { instanceOf: MqttCodecError })
        t.regex(err!.message, message)
    })
}

test('the encoder refuses what a sender must not send, before writing anything', t => {
    const bad: [Packet5, RegExp][] = [
        [{ type: 4, id: 1, reasonCode: 0x92, properties: {} }, /PUBACK may not carry/],
        [{ type: 3, dup: false, qos: 0, retain: false, topic: '', id: 0, payload: new Uint8Array(0), properties: {} }, /empty topic/],
        [{ type: 3, dup: false, qos: 0, retain: false, topic: 'a/+', id: 0, payload: new Uint8Array(0), properties: {} }, /wildcard|\+/i],
        [{ type: 3, dup: false, qos: 1, retain: false, topic: 'a', id: 0, payload: new Uint8Array(0), properties: {} }, /Packet identifier 0/],
        [{ type: 3, dup: false, qos: 0, retain: false, topic: 'a', id: 0, payload: new Uint8Array(0), properties: { topicAlias: 0 } }, /topicAlias/],
        [{ type: 3, dup: false, qos: 0, retain: false, topic: 'a', id: 0, payload: new Uint8Array(0), properties: { sessionExpiryInterval: 1 } }, /may not appear in PUBLISH/],
        [{ type: 8, id: 1, properties: { subscriptionIdentifiers: [1, 2] }, subscriptions: [{ topic: 'a', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 }] }, /one Subscription Identifier/],
        [{ type: 8, id: 1, properties: {}, subscriptions: [{ topic: '$share/g/a', qos: 0, noLocal: true, retainAsPublished: false, retainHandling: 0 }] }, /No Local on a shared/],
        [{ type: 2, sessionPresent: false, reasonCode: 0, properties: { userProperties: [['a', 'b\u0000']] } }, /UTF-8/],
        [{ type: 14, reasonCode: 0, properties: { unknownThing: 1 } as never }, /Unknown property "unknownThing"/],
    ]
    for (const [p, message] of bad) {
        t.throws(() => encode5(p), { instanceOf: MqttCodecError, message }, JSON.stringify(plain(p)))
    }
})

test('properties alone: sizes and bytes as the table says, every property id known once', t => {
    const props: Properties = { sessionExpiryInterval: 0x01020304, userProperties: [['a', 'b']] }
    const n = propertiesSize(props, 'CONNECT')
    t.is(n, 5 + 7)
    const buf = new Uint8Array(1 + n)
    t.is(writeProperties(buf, 0, props, n), buf.length)
    t.deepEqual([...buf], [12, 0x11, 1, 2, 3, 4, 0x26, 0, 1, 0x61, 0, 1, 0x62])
    const [back, end] = readProperties(buf, 0, buf.length, 'CONNECT')
    t.deepEqual(back, props)
    t.is(end, buf.length)
    t.is(new Set(PROPERTY_DEFS.map(d => d.id)).size, 27)
})

test('fuzz: flipped and truncated bytes of valid packets parse or throw MqttCodecError, nothing else', t => {
    let seed = 1234
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n
    let refused = 0
    for (let i = 0; i < 20_000; i++) {
        const wire = encode5(PACKETS[rand(PACKETS.length)]).slice()
        for (let k = 0; k <= rand(3); k++) {
            wire[rand(wire.length)] ^= 1 << rand(8)
        }
        const d = new Mqtt5Decoder()
        try {
            d.push(wire.subarray(0, rand(wire.length + 1)), () => undefined)
        } catch (err) {
            if (!(err instanceof MqttCodecError)) {
                t.fail(`${(err as Error).stack}`)
                return
            }
            refused++
        }
    }
    t.true(refused > 1000, `${refused} refused`)
})
