/*
    PUBLISH encoding, the hot path: the fixed header precomputed per flags, topic encodings cached, a PUBLISH
    measured and written into one buffer (a PacketWriter's slab, or its own), DUP set on a kept one for a resend.
    The field checks every packet's encoder shares are here too (encode.ts encodes the other packets).
 */
import { MQTT_MAX_REMAINING } from '../constants.js'
import { topicNameProblem } from '../topic.js'
import { allocBytes } from './bytes.js'
import { fail } from './errors.js'
import { utf8Length, writeUtf8 } from './utf8.js'
import { varintSize, writeVarint } from './varint.js'

/** PUBLISH fixed header bytes indexed [qos][dup][retain]. */
export const PUBLISH_HEADER: number[][][] = [0, 1, 2].map(qos => [0, 1].map(dup => [0, 1].map(retain =>
    0x30 | (dup << 3) | (qos << 1) | retain)))

/**
    A packet identifier in 1..65535 [MQTT-2.3.1-1], or MqttCodecError.
    @example checkId(p.id)
 */
export function checkId(id: number): void {
    if (!Number.isInteger(id) || id < 1 || id > 65535) {
        fail('MQTT_BAD_ID', '[MQTT-2.3.1-1]', `Packet identifier ${id} must be 1..65535`)
    }
}

/**
    A QoS of 0, 1 or 2, or MqttCodecError naming `rule`.
    @example checkQos(will.qos, '[MQTT-3.1.2-14]')
 */
export function checkQos(qos: number, rule: string): void {
    if (qos !== 0 && qos !== 1 && qos !== 2) {
        fail('MQTT_BAD_QOS', rule, `QoS ${qos} is not 0, 1 or 2`)
    }
}

/* Topic encodings (2-byte length + UTF-8) for PUBLISH, cached: devices publish to few topics, often */
const topicCache = new Map<string, Uint8Array>()
const TOPIC_CACHE_MAX = 1024

/**
    The encoded (length-prefixed) bytes of a PUBLISH topic name; throws when the name is invalid.
    @example const topic = encodeTopic('devices/d1/temp'); writer.publish(topic, payload, 1, false, false, id)
 */
export function encodeTopic(topic: string): Uint8Array {
    let bytes = topicCache.get(topic)
    if (bytes === undefined) {
        const problem = topicNameProblem(topic)
        if (problem !== null) {
            fail('MQTT_BAD_TOPIC', problem.rule, problem.message)
        }
        const len = utf8Length(topic)
        bytes = new Uint8Array(len + 2)
        bytes[0] = len >> 8
        bytes[1] = len & 0xff
        writeUtf8(bytes, 2, topic, len)
        if (topicCache.size >= TOPIC_CACHE_MAX) {
            topicCache.clear()
        }
        topicCache.set(topic, bytes)
    }
    return bytes
}

/**
    A remaining length within 268,435,455 [MQTT-2.2.3], or MqttCodecError.
    @example const size = 1 + varintSize(rem) + remaining(rem)
 */
export function remaining(n: number): number {
    if (n > MQTT_MAX_REMAINING) {
        fail('MQTT_TOO_LARGE', '[MQTT-2.2.3]', `Remaining length ${n} exceeds 268,435,455`)
    }
    return n
}

/**
    Size of a PUBLISH's bytes; validates its fields.
    @example const buf = new Uint8Array(publishSize(topic, payload, 1, false, 7))
 */
export function publishSize(topicBytes: Uint8Array, payload: Uint8Array, qos: number, dup: boolean, id: number): number {
    checkQos(qos, '[MQTT-3.3.1-4]')
    if (qos > 0) {
        checkId(id)
    } else if (dup) {
        fail('MQTT_BAD_FLAGS', '[MQTT-3.3.1-2]', 'DUP must be 0 on a QoS 0 PUBLISH')
    }
    if (!(payload instanceof Uint8Array)) {
        fail('MQTT_BAD_ARGS', '', 'A payload must be bytes')
    }
    const rem = remaining(topicBytes.length + (qos > 0 ? 2 : 0) + payload.length)
    return 1 + varintSize(rem) + rem
}

/**
    Write a PUBLISH at pos (size from publishSize); returns the new position.
    @example writePublish(buf, 0, encodeTopic('a/b'), payload, 1, false, false, 7)
 */
export function writePublish(buf: Uint8Array, pos: number, topicBytes: Uint8Array, payload: Uint8Array, qos: number,
    retain: boolean, dup: boolean, id: number): number {
    buf[pos++] = PUBLISH_HEADER[qos][dup ? 1 : 0][retain ? 1 : 0]
    pos = writeVarint(buf, pos, topicBytes.length + (qos > 0 ? 2 : 0) + payload.length)
    buf.set(topicBytes, pos)
    pos += topicBytes.length
    if (qos > 0) {
        buf[pos++] = id >> 8
        buf[pos++] = id & 0xff
    }
    buf.set(payload, pos)
    return pos + payload.length
}

/**
    Write a QoS 1/2 PUBLISH (not DUP) whose payload is src[start, end) at pos; returns the new position. The
    caller has checked the QoS and the id, and made room: 1 + varintSize(r) + r bytes, r = topic + 2 + payload.
    @example pos = writePublishRange(buf, pos, encodeTopic('a/b'), slab, 128, 144, 1, false, 7)
 */
export function writePublishRange(buf: Uint8Array, pos: number, topicBytes: Uint8Array, src: Uint8Array, start: number, end: number,
    qos: number, retain: boolean, id: number): number {
    buf[pos++] = PUBLISH_HEADER[qos][0][retain ? 1 : 0]
    pos = writeVarint(buf, pos, topicBytes.length + 2 + end - start)
    buf.set(topicBytes, pos)
    pos += topicBytes.length
    buf[pos++] = id >> 8
    buf[pos++] = id & 0xff
    if (end - start <= SMALL_COPY) {
        /* A short payload byte by byte: no view made to copy it */
        for (let i = start; i < end; i++) {
            buf[pos++] = src[i]
        }
        return pos
    }
    buf.set(src.subarray(start, end), pos)
    return pos + end - start
}

const SMALL_COPY = 64

/**
    Encode one PUBLISH into its own buffer (kept for retransmission).
    @example const bytes = encodePublish('devices/d1/temp', payload, 1, false, false, 7)
 */
export function encodePublish(topic: string, payload: Uint8Array, qos: number, retain: boolean, dup: boolean, id: number): Uint8Array {
    const topicBytes = encodeTopic(topic)
    const buf = allocBytes(publishSize(topicBytes, payload, qos, dup, id))
    writePublish(buf, 0, topicBytes, payload, qos, retain, dup, id)
    return buf
}

/**
    Set or clear DUP in an encoded PUBLISH (for resends) [MQTT-3.3.1-1].
    @example setDup(msg.bytes, true)   // before a resend
 */
export function setDup(bytes: Uint8Array, dup: boolean): void {
    bytes[0] = dup ? bytes[0] | 0x08 : bytes[0] & ~0x08
}
