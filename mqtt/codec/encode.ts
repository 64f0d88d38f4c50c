/*
    Encoder: every packet into exact-size bytes (PacketWriter, in writer.ts, batches many into one buffer), and a
    client's own packets each on its own (encodeConnect, encodeSubscribe, encodeUnsubscribe). A PUBLISH is
    encode-publish.ts's. Invalid packets throw MqttCodecError naming the rule.
 */
import { topicFilterProblem, topicNameProblem } from '../topic.js'
import { allocBytes } from './bytes.js'
import { checkId, checkQos, encodeTopic, publishSize, remaining, writePublish } from './encode-publish.js'
import { fail } from './errors.js'
import type { ConnackPacket, ConnectPacket, Packet, SubackPacket, SubscribePacket, UnsubscribePacket } from './packets.js'
import { utf8Length, writeUtf8 } from './utf8.js'
import { varintSize, writeVarint } from './varint.js'

/** Fixed header byte per packet type (PUBLISH's depends on its flags). */
const HEADER = [0, 0x10, 0x20, 0x30, 0x40, 0x50, 0x62, 0x70, 0x82, 0x90, 0xa2, 0xb0, 0xc0, 0xd0, 0xe0]

export const PINGREQ_BYTES = Uint8Array.of(0xc0, 0)
export const PINGRESP_BYTES = Uint8Array.of(0xd0, 0)
export const DISCONNECT_BYTES = Uint8Array.of(0xe0, 0)

function stringLength(s: string, what: string): number {
    const len = typeof s === 'string' ? utf8Length(s) : -1
    if (len < 0) {
        fail('MQTT_BAD_UTF8', '[MQTT-1.5.3-1]', `${what} must be well-formed UTF-8 without U+0000`)
    }
    if (len > 65535) {
        fail('MQTT_BAD_STRING', '[MQTT-1.5.3]', `${what} is longer than 65,535 bytes`)
    }
    return len
}

function binaryLength(b: Uint8Array, what: string): number {
    if (!(b instanceof Uint8Array)) {
        fail('MQTT_BAD_ARGS', '', `${what} must be bytes`)
    }
    if (b.length > 65535) {
        fail('MQTT_BAD_STRING', '[MQTT-1.5.3]', `${what} is longer than 65,535 bytes`)
    }
    return b.length
}

/**
    Measure a packet: its total size, after validating it.
    @example const buf = new Uint8Array(packetSize(p)); writePacket(buf, 0, p, buf.length)
 */
export function packetSize(p: Packet): number {
    let rem: number
    switch (p.type) {
    case 1: rem = connectLength(p); break
    case 2: rem = connackLength(p); break
    case 3: return publishSize(encodeTopic(p.topic), p.payload, p.qos, p.dup, p.id)
    case 4: case 5: case 6: case 7: case 11: checkId(p.id); rem = 2; break
    case 8: rem = subscribeLength(p); break
    case 9: rem = subackLength(p); break
    case 10: rem = unsubscribeLength(p); break
    case 12: case 13: case 14: rem = 0; break
    default: return fail('MQTT_BAD_TYPE', '[MQTT-2.2.1]', `Unknown packet type ${(p as Packet).type}`)
    }
    return 1 + varintSize(rem) + remaining(rem)
}

function connectLength(p: ConnectPacket): number {
    if (p.protocolName !== 'MQTT') {
        fail('MQTT_BAD_CONNECT', '[MQTT-3.1.2-1]', 'The protocol name must be "MQTT"')
    }
    if (!Number.isInteger(p.protocolLevel) || p.protocolLevel < 0 || p.protocolLevel > 255) {
        fail('MQTT_BAD_CONNECT', '[MQTT-3.1.2-2]', 'Bad protocol level')
    }
    if (!Number.isInteger(p.keepAlive) || p.keepAlive < 0 || p.keepAlive > 65535) {
        fail('MQTT_BAD_CONNECT', '[MQTT-3.1.2-10]', 'Keep-alive must be 0..65535 seconds')
    }
    let n = 10 + 2 + stringLength(p.clientId, 'Client identifier')
    if (n === 12 && !p.clean) {
        fail('MQTT_BAD_CONNECT', '[MQTT-3.1.3-7]', 'An empty client identifier needs a clean session')
    }
    if (p.will) {
        checkQos(p.will.qos, '[MQTT-3.1.2-14]')
        const problem = topicNameProblem(p.will.topic)
        if (problem !== null) {
            fail('MQTT_BAD_TOPIC', problem.rule, `Will topic: ${problem.message}`)
        }
        n += 2 + stringLength(p.will.topic, 'Will topic') + 2 + binaryLength(p.will.payload, 'Will message')
    }
    if (p.password !== null && p.username === null) {
        fail('MQTT_BAD_CONNECT', '[MQTT-3.1.2-22]', 'A password needs a user name')
    }
    if (p.username !== null) {
        n += 2 + stringLength(p.username, 'User name')
    }
    if (p.password !== null) {
        n += 2 + binaryLength(p.password, 'Password')
    }
    return n
}

function connackLength(p: ConnackPacket): number {
    if (!Number.isInteger(p.returnCode) || p.returnCode < 0 || p.returnCode > 5) {
        fail('MQTT_BAD_CONNACK', '[MQTT-3.2.2-6]', `CONNACK return code ${p.returnCode} is reserved`)
    }
    if (p.sessionPresent && p.returnCode !== 0) {
        fail('MQTT_BAD_CONNACK', '[MQTT-3.2.2-4]', 'Session present must be 0 when the connection is refused')
    }
    return 2
}

/** A valid topic filter's encoded length (with its length prefix). */
function filterLength(filter: string): number {
    const problem = topicFilterProblem(filter)
    if (problem !== null) {
        fail('MQTT_BAD_FILTER', problem.rule, problem.message)
    }
    return 2 + stringLength(filter, 'Topic filter')
}

function subscribeLength(p: SubscribePacket): number {
    checkId(p.id)
    if (!Array.isArray(p.subscriptions) || p.subscriptions.length === 0) {
        fail('MQTT_EMPTY', '[MQTT-3.8.3-3]', 'A SUBSCRIBE needs at least one topic filter')
    }
    let n = 2
    for (const s of p.subscriptions) {
        checkQos(s.qos, '[MQTT-3.8.3-4]')
        n += filterLength(s.topic) + 1
    }
    return n
}

function subackLength(p: SubackPacket): number {
    checkId(p.id)
    if (!Array.isArray(p.granted) || p.granted.length === 0) {
        fail('MQTT_EMPTY', '[MQTT-3.9.3-1]', 'A SUBACK needs at least one return code')
    }
    for (const code of p.granted) {
        if (code !== 0 && code !== 1 && code !== 2 && code !== 0x80) {
            fail('MQTT_BAD_SUBACK', '[MQTT-3.9.3-2]', `SUBACK return code ${code} is reserved`)
        }
    }
    return 2 + p.granted.length
}

function unsubscribeLength(p: UnsubscribePacket): number {
    checkId(p.id)
    if (!Array.isArray(p.topics) || p.topics.length === 0) {
        fail('MQTT_EMPTY', '[MQTT-3.10.3-2]', 'An UNSUBSCRIBE needs at least one topic filter')
    }
    let n = 2
    for (const t of p.topics) {
        n += filterLength(t)
    }
    return n
}

function writeString(buf: Uint8Array, pos: number, s: string): number {
    const len = utf8Length(s)
    buf[pos++] = len >> 8
    buf[pos++] = len & 0xff
    return writeUtf8(buf, pos, s, len)
}

function writeBinary(buf: Uint8Array, pos: number, b: Uint8Array): number {
    buf[pos++] = b.length >> 8
    buf[pos++] = b.length & 0xff
    buf.set(b, pos)
    return pos + b.length
}

function writeConnect(buf: Uint8Array, pos: number, p: ConnectPacket): number {
    let flags = p.clean ? 0x02 : 0
    if (p.will) {
        flags |= 0x04 | (p.will.qos << 3) | (p.will.retain ? 0x20 : 0)
    }
    if (p.password !== null) flags |= 0x40
    if (p.username !== null) flags |= 0x80
    pos = writeString(buf, pos, p.protocolName)
    buf[pos++] = p.protocolLevel
    buf[pos++] = flags
    buf[pos++] = p.keepAlive >> 8
    buf[pos++] = p.keepAlive & 0xff
    pos = writeString(buf, pos, p.clientId)
    if (p.will) {
        pos = writeString(buf, pos, p.will.topic)
        pos = writeBinary(buf, pos, p.will.payload)
    }
    if (p.username !== null) pos = writeString(buf, pos, p.username)
    if (p.password !== null) pos = writeBinary(buf, pos, p.password)
    return pos
}

function writeSubscribe(buf: Uint8Array, pos: number, p: SubscribePacket): number {
    buf[pos++] = p.id >> 8
    buf[pos++] = p.id & 0xff
    for (const s of p.subscriptions) {
        pos = writeString(buf, pos, s.topic)
        buf[pos++] = s.qos
    }
    return pos
}

function writeUnsubscribe(buf: Uint8Array, pos: number, p: UnsubscribePacket): number {
    buf[pos++] = p.id >> 8
    buf[pos++] = p.id & 0xff
    for (const t of p.topics) {
        pos = writeString(buf, pos, t)
    }
    return pos
}

/**
    Write a measured packet at pos; returns the new position.
    @example const end = writePacket(buf, pos, { type: 4, id: 7 }, 4)
 */
export function writePacket(buf: Uint8Array, pos: number, p: Packet, size: number): number {
    if (p.type === 3) {
        return writePublish(buf, pos, encodeTopic(p.topic), p.payload, p.qos, p.retain, p.dup, p.id)
    }
    buf[pos++] = HEADER[p.type]
    pos = writeVarint(buf, pos, remainingOf(size))
    switch (p.type) {
    case 1:
        return writeConnect(buf, pos, p)
    case 2:
        buf[pos++] = p.sessionPresent ? 1 : 0
        buf[pos++] = p.returnCode
        return pos
    case 8:
        return writeSubscribe(buf, pos, p)
    case 9:
        buf[pos++] = p.id >> 8
        buf[pos++] = p.id & 0xff
        for (const code of p.granted) {
            buf[pos++] = code
        }
        return pos
    case 10:
        return writeUnsubscribe(buf, pos, p)
    case 12: case 13: case 14:
        return pos
    default:
        buf[pos++] = p.id >> 8
        buf[pos++] = p.id & 0xff
        return pos
    }
}

/* The remaining length of a packet whose total size is known */
function remainingOf(size: number): number {
    for (let v = 1; v <= 4; v++) {
        const rem = size - 1 - v
        if (varintSize(rem) === v) {
            return rem
        }
    }
    return size - 5
}

/**
    Encode a packet into its own exact-size buffer.
    @example encode({ type: 3, topic: 'a/b', payload: bytes, qos: 1, id: 7, retain: false, dup: false })
 */
export function encode(p: Packet): Uint8Array {
    const size = packetSize(p)
    const buf = allocBytes(size)
    writePacket(buf, 0, p, size)
    return buf
}

/* One packet into its own buffer, measured (validated) as `rem` bytes after its fixed header */
function encodeOne<P extends Packet>(p: P, rem: number, body: (buf: Uint8Array, pos: number, p: P) => number): Uint8Array {
    const buf = allocBytes(1 + varintSize(rem) + remaining(rem))
    buf[0] = HEADER[p.type]
    body(buf, writeVarint(buf, 1, rem), p)
    return buf
}

/*
    The packets a client encodes itself, each on its own: a client's bundle carries neither CONNACK's nor
    SUBACK's encoder. The same bytes as encode().
 */

/**
    Encode a CONNECT (validated as encode does).
    @example sock.write(encodeConnect({ type: 1, protocolName: 'MQTT', protocolLevel: 4, clean: true, keepAlive: 60, clientId: 'd1', will: null, username: null, password: null }))
 */
export function encodeConnect(p: ConnectPacket): Uint8Array {
    return encodeOne(p, connectLength(p), writeConnect)
}

/**
    Encode a SUBSCRIBE.
    @example sock.write(encodeSubscribe({ type: 8, id: 1, subscriptions: [{ topic: 'dev/+/temp', qos: 1 }] }))
 */
export function encodeSubscribe(p: SubscribePacket): Uint8Array {
    return encodeOne(p, subscribeLength(p), writeSubscribe)
}

/**
    Encode an UNSUBSCRIBE.
    @example sock.write(encodeUnsubscribe({ type: 10, id: 2, topics: ['dev/+/temp'] }))
 */
export function encodeUnsubscribe(p: UnsubscribePacket): Uint8Array {
    return encodeOne(p, unsubscribeLength(p), writeUnsubscribe)
}
