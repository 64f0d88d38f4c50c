/*
    MQTT 5.0 packet parsing, free of I/O: one whole packet in, a Packet5 out, or MqttCodecError naming the
    rule broken (section numbers of the 5.0 standard, or its numbered statements). Framing (the fixed header,
    packets split across chunks, the size limit) is PacketDecoder's: Mqtt5Decoder is that framing with this parser.
 */
import { MQTT_MAX_REMAINING } from '../constants.js'
import { topicFilterProblem, topicNameProblem } from '../topic.js'
import { checkFirstByte } from './decode.js'
import { PacketDecoder } from './decoder.js'
import { fail } from './errors.js'
import type { Packet5, Subscription5, Will5 } from './packets5.js'
import type { Properties } from './properties.js'
import { readProperties, type PropertyPlace } from './properties.js'
import { REASON_CODES, reasonName } from './reasons.js'
import { decodeUtf8 } from './utf8.js'

const NAMES = ['Reserved', 'CONNECT', 'CONNACK', 'PUBLISH', 'PUBACK', 'PUBREC', 'PUBREL', 'PUBCOMP', 'SUBSCRIBE', 'SUBACK',
    'UNSUBSCRIBE', 'UNSUBACK', 'PINGREQ', 'PINGRESP', 'DISCONNECT', 'AUTH'] as const
/* Required fixed-header flags [MQTT5-2.1.3]; PUBLISH is checked on its own; -1: reserved */
const FLAGS = [-1, 0, 0, 0, 0, 0, 2, 0, 2, 0, 2, 0, 0, 0, 0, 0]

/** The fixed header's first byte: a known type with its required flags [MQTT5-2.1.3]. */
export function checkFirstByte5(b: number): void {
    checkFirstByte(b, FLAGS, NAMES)
}

/* Read position in the packet being parsed */
let at = 0

function need(n: number, end: number, what: string): void {
    if (at + n > end) {
        fail('MQTT_BAD_LENGTH', '[MQTT5-1.5]', `${what} runs past the end of the packet`)
    }
}

function u16(buf: Uint8Array, end: number, what: string): number {
    need(2, end, what)
    const v = (buf[at] << 8) | buf[at + 1]
    at += 2
    return v
}

function id(buf: Uint8Array, end: number): number {
    const v = u16(buf, end, 'Packet identifier')
    if (v === 0) {
        fail('MQTT_BAD_ID', '[MQTT-2.2.1-3]', 'Packet identifier 0')
    }
    return v
}

function str(buf: Uint8Array, end: number, what: string): string {
    const n = u16(buf, end, what)
    need(n, end, what)
    const s = decodeUtf8(buf, at, at + n)
    at += n
    return s
}

function bin(buf: Uint8Array, end: number, what: string): Uint8Array {
    const n = u16(buf, end, what)
    need(n, end, what)
    const b = new Uint8Array(buf.buffer, buf.byteOffset + at, n)
    at += n
    return b
}

function props(buf: Uint8Array, end: number, place: PropertyPlace): Properties {
    const [p, next] = readProperties(buf, at, end, place)
    at = next
    return p
}

function reason(code: number, place: PropertyPlace): number {
    if (!REASON_CODES[place]!.includes(code)) {
        fail('MQTT_BAD_REASON', '[MQTT5-2.4]', `${place} may not carry ${reasonName(code)} (0x${code.toString(16)})`)
    }
    return code
}

function done(end: number, name: string): void {
    if (at !== end) {
        fail('MQTT_BAD_LENGTH', '[MQTT5-2.1.4]', `${name} has ${end - at} bytes after its end`)
    }
}

/**
    Parse one whole MQTT 5.0 packet occupying [start, end) of buf (fixed header included). Binary fields are
    views into buf.
    @example const p = parse5(bytes, 0, bytes.length)
 */
export function parse5(buf: Uint8Array, start: number, end: number): Packet5 {
    const b = buf[start]
    checkFirstByte5(b)
    at = start + 1
    while (buf[at++] & 0x80) {
        /* the remaining length: the caller measured it */
    }
    const type = b >> 4
    const rem = end - at
    switch (type) {
    case 1:
        return connect(buf, end)
    case 2: {
        need(2, end, 'CONNACK')
        const flags = buf[at]
        if (rem === 2 && flags === 0 && buf[at + 1] === 1) {
            /* A server that speaks only 3.1.1 refuses an MQTT 5 CONNECT with its own CONNACK (1, unacceptable
               protocol version; no property list): what 0x84 says in 5.0 [MQTT5-3.1.2.2] */
            at = end
            return { type: 2, sessionPresent: false, reasonCode: 0x84, properties: {} }
        }
        const code = reason(buf[at + 1], 'CONNACK')
        at += 2
        if (flags & 0xfe) {
            fail('MQTT_BAD_CONNACK', '[MQTT-3.2.2-1]', 'CONNACK with reserved acknowledge flags set')
        }
        if ((flags & 1) && code >= 0x80) {
            fail('MQTT_BAD_CONNACK', '[MQTT-3.2.2-6]', 'CONNACK refusal with session present set')
        }
        const properties = props(buf, end, 'CONNACK')
        done(end, 'CONNACK')
        return { type: 2, sessionPresent: (flags & 1) === 1, reasonCode: code, properties }
    }
    case 3: {
        const qos = (b >> 1) & 3
        const topic = str(buf, end, 'Topic name')
        const packetId = qos > 0 ? id(buf, end) : 0
        const properties = props(buf, end, 'PUBLISH')
        if (topic === '' ? properties.topicAlias === undefined : topicNameProblem(topic) !== null) {
            const problem = topicNameProblem(topic)
            fail('MQTT_BAD_TOPIC', topic === '' ? '[MQTT5-3.3.2.1]' : problem!.rule, topic === '' ? 'PUBLISH with an empty topic and no Topic Alias' : problem!.message)
        }
        return {
            type: 3, dup: (b & 8) !== 0, qos, retain: (b & 1) !== 0, topic, id: packetId,
            payload: new Uint8Array(buf.buffer, buf.byteOffset + at, end - at), properties,
        }
    }
    case 4: case 5: case 6: case 7: {
        const place = NAMES[type] as PropertyPlace
        const packetId = id(buf, end)
        /* Reason code and properties may be left out: 0x00 and none [MQTT5-3.4.2.1] */
        const code = at < end ? reason(buf[at++], place) : 0
        const properties = at < end ? props(buf, end, place) : {}
        done(end, place)
        return { type, id: packetId, reasonCode: code, properties }
    }
    case 8: {
        const packetId = id(buf, end)
        const properties = props(buf, end, 'SUBSCRIBE')
        const subscriptions: Subscription5[] = []
        while (at < end) {
            const topic = str(buf, end, 'Topic filter')
            const problem = topicFilterProblem(topic)
            if (problem !== null) {
                fail('MQTT_BAD_FILTER', problem.rule, problem.message)
            }
            need(1, end, 'Subscription options')
            const o = buf[at++]
            if (o & 0xc0) {
                fail('MQTT_BAD_PACKET', '[MQTT-3.8.3-5]', 'Subscription options with reserved bits set')
            }
            if ((o & 3) === 3) {
                fail('MQTT_BAD_QOS', '[MQTT5-3.8.3.1]', 'Subscription with Maximum QoS 3')
            }
            if (((o >> 4) & 3) === 3) {
                fail('MQTT_BAD_PACKET', '[MQTT5-3.8.3.1]', 'Subscription with Retain Handling 3')
            }
            if ((o & 4) && topic.startsWith('$share/')) {
                fail('MQTT_BAD_PACKET', '[MQTT-3.8.3-4]', 'No Local on a shared subscription')
            }
            subscriptions.push({ topic, qos: o & 3, noLocal: (o & 4) !== 0, retainAsPublished: (o & 8) !== 0, retainHandling: (o >> 4) & 3 })
        }
        if (subscriptions.length === 0) {
            fail('MQTT_EMPTY', '[MQTT-3.8.3-2]', 'SUBSCRIBE without a topic filter')
        }
        return { type: 8, id: packetId, subscriptions, properties }
    }
    case 9: case 11: {
        const place = type === 9 ? 'SUBACK' : 'UNSUBACK'
        const packetId = id(buf, end)
        const properties = props(buf, end, place)
        const reasonCodes: number[] = []
        while (at < end) {
            reasonCodes.push(reason(buf[at++], place))
        }
        if (reasonCodes.length === 0) {
            fail('MQTT_EMPTY', '[MQTT5-3.9.3]', `${place} without a reason code`)
        }
        return { type, id: packetId, reasonCodes, properties }
    }
    case 10: {
        const packetId = id(buf, end)
        const properties = props(buf, end, 'UNSUBSCRIBE')
        const topics: string[] = []
        while (at < end) {
            const topic = str(buf, end, 'Topic filter')
            const problem = topicFilterProblem(topic)
            if (problem !== null) {
                fail('MQTT_BAD_FILTER', problem.rule, problem.message)
            }
            topics.push(topic)
        }
        if (topics.length === 0) {
            fail('MQTT_EMPTY', '[MQTT-3.10.3-2]', 'UNSUBSCRIBE without a topic filter')
        }
        return { type: 10, id: packetId, topics, properties }
    }
    case 12: case 13:
        if (rem !== 0) {
            fail('MQTT_BAD_LENGTH', '[MQTT5-3.12.1]', `${NAMES[type]} remaining length must be 0, not ${rem}`)
        }
        return { type }
    default: {
        /* DISCONNECT, AUTH: reason code and properties may be left out [MQTT5-3.14.2.1, 3.15.2.1] */
        const place = NAMES[type] as PropertyPlace
        const code = at < end ? reason(buf[at++], place) : 0
        const properties = at < end ? props(buf, end, place) : {}
        done(end, place)
        return { type: type as 14 | 15, reasonCode: code, properties }
    }
    }
}

function connect(buf: Uint8Array, end: number): Packet5 {
    const protocolName = str(buf, end, 'Protocol name')
    if (protocolName !== 'MQTT') {
        fail('MQTT_BAD_CONNECT', '[MQTT-3.1.2-1]', `Protocol name "${protocolName}" is not "MQTT"`)
    }
    need(4, end, 'CONNECT variable header')
    const level = buf[at++]
    if (level !== 5) {
        fail('MQTT_BAD_CONNECT', '[MQTT-3.1.2-2]', `Protocol version ${level} is not 5`)
    }
    const flags = buf[at++]
    const keepAlive = (buf[at] << 8) | buf[at + 1]
    at += 2
    if (flags & 0x01) {
        fail('MQTT_BAD_CONNECT', '[MQTT-3.1.2-3]', 'CONNECT with the reserved flag set')
    }
    const willQos = (flags >> 3) & 3
    if (!(flags & 0x04) && (willQos || (flags & 0x20))) {
        fail('MQTT_BAD_CONNECT', '[MQTT-3.1.2-11]', 'Will QoS or retain set without the will flag')
    }
    if (willQos === 3) {
        fail('MQTT_BAD_CONNECT', '[MQTT-3.1.2-12]', 'Will QoS 3')
    }
    const properties = props(buf, end, 'CONNECT')
    const clientId = str(buf, end, 'Client identifier')
    let will: Will5 | null = null
    if (flags & 0x04) {
        const willProps = props(buf, end, 'WILL')
        const topic = str(buf, end, 'Will topic')
        const problem = topicNameProblem(topic)
        if (problem !== null) {
            fail('MQTT_BAD_TOPIC', problem.rule, `Will topic: ${problem.message}`)
        }
        will = { topic, payload: bin(buf, end, 'Will payload'), qos: willQos, retain: (flags & 0x20) !== 0, properties: willProps }
    }
    const username = flags & 0x80 ? str(buf, end, 'User name') : null
    const password = flags & 0x40 ? bin(buf, end, 'Password') : null
    done(end, 'CONNECT')
    return { type: 1, protocolName, protocolLevel: 5, clean: (flags & 0x02) !== 0, keepAlive, clientId, will, username, password, properties }
}

/**
    The incremental decoder for MQTT 5.0: the framing every decoder shares (PacketDecoder) with the 5.0 parser.
    @example const d = new Mqtt5Decoder(); d.push(chunk, p => { if (p.type === 14) rInfo('mqtt', 'server says %s', reasonName(p.reasonCode)) })
 */
export class Mqtt5Decoder extends PacketDecoder<Packet5> {
    constructor(maxPacketSize = MQTT_MAX_REMAINING + 5) {
        super(maxPacketSize)
    }

    protected override firstByte(b: number): void {
        checkFirstByte5(b)
    }

    protected override parsePacket(buf: Uint8Array, start: number, end: number): Packet5 {
        return parse5(buf, start, end)
    }
}

