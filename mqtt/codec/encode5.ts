/*
    MQTT 5.0 packet encoding, free of I/O: a Packet5 in, its bytes out. What a sender must not send throws
    MqttCodecError before anything is written: a property the packet may not carry or out of range, a reason
    code the packet may not carry, a bad topic, QoS or packet identifier, a packet over the 5.0 size limit.
 */
import { MQTT_MAX_REMAINING } from '../constants.js'
import { topicFilterProblem, topicNameProblem } from '../topic.js'
import { fail } from './errors.js'
import type { Packet5 } from './packets5.js'
import type { Properties } from './properties.js'
import { propertiesSize, varintSize, writeProperties, writeVarint, type PropertyPlace } from './properties.js'
import { REASON_CODES, reasonName } from './reasons.js'
import { utf8Length, writeUtf8 } from './utf8.js'

/* A packet's body as a list of parts, sized first, written after (no part is written before all are checked) */
type Part = { kind: 'byte', v: number } | { kind: 'u16', v: number } | { kind: 'str', v: string, n: number }
    | { kind: 'bin', v: Uint8Array } | { kind: 'raw', v: Uint8Array } | { kind: 'props', v: Properties | undefined, n: number }

class Body {
    parts: Part[] = []
    size = 0

    byte(v: number): this {
        this.parts.push({ kind: 'byte', v })
        this.size += 1
        return this
    }

    u16(v: number): this {
        this.parts.push({ kind: 'u16', v })
        this.size += 2
        return this
    }

    str(v: string, what: string): this {
        const n = typeof v === 'string' ? utf8Length(v) : -1
        if (n < 0) fail('MQTT_BAD_UTF8', '[MQTT-1.5.4-1]', `${what} must be well-formed UTF-8 without U+0000`)
        if (n > 65535) fail('MQTT_BAD_STRING', '[MQTT5-1.5.4]', `${what} is longer than 65,535 bytes`)
        this.parts.push({ kind: 'str', v, n })
        this.size += 2 + n
        return this
    }

    bin(v: Uint8Array, what: string): this {
        if (!(v instanceof Uint8Array)) fail('MQTT_BAD_ARGS', '', `${what} must be bytes`)
        if (v.length > 65535) fail('MQTT_BAD_STRING', '[MQTT5-1.5.6]', `${what} is longer than 65,535 bytes`)
        this.parts.push({ kind: 'bin', v })
        this.size += 2 + v.length
        return this
    }

    raw(v: Uint8Array): this {
        if (!(v instanceof Uint8Array)) fail('MQTT_BAD_ARGS', '', 'A payload must be bytes')
        this.parts.push({ kind: 'raw', v })
        this.size += v.length
        return this
    }

    props(v: Properties | undefined, place: PropertyPlace): this {
        const n = propertiesSize(v, place)
        this.parts.push({ kind: 'props', v, n })
        this.size += varintSize(n) + n
        return this
    }

    write(buf: Uint8Array, pos: number): number {
        for (const p of this.parts) {
            switch (p.kind) {
            case 'byte': buf[pos++] = p.v; break
            case 'u16': buf[pos++] = p.v >> 8; buf[pos++] = p.v & 255; break
            case 'str': buf[pos++] = p.n >> 8; buf[pos++] = p.n & 255; pos = writeUtf8(buf, pos, p.v, p.n); break
            case 'bin': buf[pos++] = p.v.length >> 8; buf[pos++] = p.v.length & 255; buf.set(p.v, pos); pos += p.v.length; break
            case 'raw': buf.set(p.v, pos); pos += p.v.length; break
            default: pos = writeProperties(buf, pos, p.v, p.n)
            }
        }
        return pos
    }
}

function checkId(id: number): number {
    if (!Number.isInteger(id) || id < 1 || id > 65535) {
        fail('MQTT_BAD_ID', '[MQTT-2.2.1-3]', `Packet identifier ${id} must be 1..65535`)
    }
    return id
}

function checkQos(qos: number, rule: string): number {
    if (qos !== 0 && qos !== 1 && qos !== 2) {
        fail('MQTT_BAD_QOS', rule, `QoS ${qos} is not 0, 1 or 2`)
    }
    return qos
}

function checkReason(code: number, place: PropertyPlace): number {
    if (!REASON_CODES[place]!.includes(code)) {
        fail('MQTT_BAD_REASON', '[MQTT5-2.4]', `${place} may not carry ${reasonName(code)} (0x${Number(code).toString(16)})`)
    }
    return code
}

function hasProps(p: Properties | undefined): boolean {
    return p !== undefined && Object.values(p).some(v => v !== undefined)
}

const ACK_NAMES: Record<number, PropertyPlace> = { 4: 'PUBACK', 5: 'PUBREC', 6: 'PUBREL', 7: 'PUBCOMP', 9: 'SUBACK', 11: 'UNSUBACK', 14: 'DISCONNECT', 15: 'AUTH' }

/* The first byte and body of a packet */
function build(p: Packet5): [number, Body] {
    const body = new Body()
    switch (p.type) {
    case 1: {
        const will = p.will
        if (will !== null) {
            checkQos(will.qos, '[MQTT-3.1.2-12]')
        }
        if (p.password !== null && !(p.password instanceof Uint8Array)) fail('MQTT_BAD_ARGS', '', 'A password must be bytes')
        const flags = (p.clean ? 0x02 : 0) | (will !== null ? 0x04 | (will.qos << 3) | (will.retain ? 0x20 : 0) : 0) |
            (p.password !== null ? 0x40 : 0) | (p.username !== null ? 0x80 : 0)
        if (!Number.isInteger(p.keepAlive) || p.keepAlive < 0 || p.keepAlive > 65535) fail('MQTT_BAD_ARGS', '', `Keep alive ${p.keepAlive} must be 0..65535`)
        body.str('MQTT', 'Protocol name').byte(5).byte(flags).u16(p.keepAlive).props(p.properties, 'CONNECT').str(p.clientId, 'Client identifier')
        if (will !== null) {
            const problem = topicNameProblem(will.topic)
            if (problem !== null) fail('MQTT_BAD_TOPIC', problem.rule, `Will topic: ${problem.message}`)
            body.props(will.properties, 'WILL').str(will.topic, 'Will topic').bin(will.payload, 'Will payload')
        }
        if (p.username !== null) body.str(p.username, 'User name')
        if (p.password !== null) body.bin(p.password, 'Password')
        return [0x10, body]
    }
    case 2:
        checkReason(p.reasonCode, 'CONNACK')
        if (p.sessionPresent && p.reasonCode >= 0x80) fail('MQTT_BAD_CONNACK', '[MQTT-3.2.2-6]', 'CONNACK refusal with session present set')
        body.byte(p.sessionPresent ? 1 : 0).byte(p.reasonCode).props(p.properties, 'CONNACK')
        return [0x20, body]
    case 3: {
        checkQos(p.qos, '[MQTT-3.3.1-4]')
        if (p.dup && p.qos === 0) fail('MQTT_BAD_FLAGS', '[MQTT-3.3.1-2]', 'DUP set on a QoS 0 PUBLISH')
        if (p.topic === '' ? p.properties?.topicAlias === undefined : topicNameProblem(p.topic) !== null) {
            const problem = topicNameProblem(p.topic)
            fail('MQTT_BAD_TOPIC', p.topic === '' ? '[MQTT5-3.3.2.1]' : problem!.rule, p.topic === '' ? 'PUBLISH with an empty topic and no Topic Alias' : problem!.message)
        }
        body.str(p.topic, 'Topic name')
        if (p.qos > 0) body.u16(checkId(p.id))
        body.props(p.properties, 'PUBLISH').raw(p.payload)
        return [0x30 | (p.dup ? 8 : 0) | (p.qos << 1) | (p.retain ? 1 : 0), body]
    }
    case 4: case 5: case 6: case 7: {
        const place = ACK_NAMES[p.type]
        body.u16(checkId(p.id))
        checkReason(p.reasonCode, place)
        /* The shortest form: the reason code only when not 0, properties only when there are some [MQTT5-3.4.2.1] */
        if (p.reasonCode !== 0 || hasProps(p.properties)) body.byte(p.reasonCode)
        if (hasProps(p.properties)) body.props(p.properties, place)
        return [(p.type << 4) | (p.type === 6 ? 2 : 0), body]
    }
    case 8: {
        body.u16(checkId(p.id)).props(p.properties, 'SUBSCRIBE')
        if (!Array.isArray(p.subscriptions) || p.subscriptions.length === 0) fail('MQTT_EMPTY', '[MQTT-3.8.3-2]', 'SUBSCRIBE without a topic filter')
        for (const s of p.subscriptions) {
            const problem = topicFilterProblem(s.topic)
            if (problem !== null) fail('MQTT_BAD_FILTER', problem.rule, problem.message)
            checkQos(s.qos, '[MQTT5-3.8.3.1]')
            if (![0, 1, 2].includes(s.retainHandling)) fail('MQTT_BAD_PACKET', '[MQTT5-3.8.3.1]', `Retain Handling ${s.retainHandling} is not 0, 1 or 2`)
            if (s.noLocal && s.topic.startsWith('$share/')) fail('MQTT_BAD_PACKET', '[MQTT-3.8.3-4]', 'No Local on a shared subscription')
            body.str(s.topic, 'Topic filter').byte(s.qos | (s.noLocal ? 4 : 0) | (s.retainAsPublished ? 8 : 0) | (s.retainHandling << 4))
        }
        return [0x82, body]
    }
    case 9: case 11: {
        const place = ACK_NAMES[p.type]
        body.u16(checkId(p.id)).props(p.properties, place)
        if (!Array.isArray(p.reasonCodes) || p.reasonCodes.length === 0) fail('MQTT_EMPTY', '[MQTT5-3.9.3]', `${place} without a reason code`)
        for (const c of p.reasonCodes) body.byte(checkReason(c, place))
        return [p.type << 4, body]
    }
    case 10: {
        body.u16(checkId(p.id)).props(p.properties, 'UNSUBSCRIBE')
        if (!Array.isArray(p.topics) || p.topics.length === 0) fail('MQTT_EMPTY', '[MQTT-3.10.3-2]', 'UNSUBSCRIBE without a topic filter')
        for (const t of p.topics) {
            const problem = topicFilterProblem(t)
            if (problem !== null) fail('MQTT_BAD_FILTER', problem.rule, problem.message)
            body.str(t, 'Topic filter')
        }
        return [0xa2, body]
    }
    case 12: case 13:
        return [p.type << 4, body]
    case 14: case 15: {
        const place = ACK_NAMES[p.type]
        checkReason(p.reasonCode, place)
        if (p.reasonCode !== 0 || hasProps(p.properties)) body.byte(p.reasonCode)
        if (hasProps(p.properties)) body.props(p.properties, place)
        return [p.type << 4, body]
    }
    default:
        return fail('MQTT_BAD_TYPE', '[MQTT5-2.1.2]', `Unknown packet type ${(p as { type: unknown }).type}`)
    }
}

/**
    The bytes of an MQTT 5.0 packet; throws MqttCodecError for what the standard forbids a sender to send.
    @example socketSend(sock, encode5({ type: 14, reasonCode: 0x04, properties: { reasonString: 'bye' } }))
 */
export function encode5(p: Packet5): Uint8Array {
    const [first, body] = build(p)
    if (body.size > MQTT_MAX_REMAINING) {
        fail('MQTT_TOO_LARGE', '[MQTT5-2.1.4]', `Packet of ${body.size} bytes is over the limit of ${MQTT_MAX_REMAINING}`)
    }
    const out = new Uint8Array(1 + varintSize(body.size) + body.size)
    out[0] = first
    const pos = body.write(out, writeVarint(out, 1, body.size))
    if (pos !== out.length) {
        fail('MQTT_BAD_PACKET', '', `Encoded ${pos} of ${out.length} bytes`)
    }
    return out
}

/**
    The size of an MQTT 5.0 PUBLISH (fixed header included) from an encoded topic and property list (null: none).
    @example const buf = new Uint8Array(publish5Size(topic, payload, 1, null)); writePublish5(buf, 0, topic, payload, 1, false, false, id, null)
 */
export function publish5Size(topicBytes: Uint8Array, payload: Uint8Array, qos: number, props: Uint8Array | null): number {
    const rem = topicBytes.length + (qos > 0 ? 2 : 0) + (props?.length ?? 1) + payload.length
    if (rem > MQTT_MAX_REMAINING) {
        fail('MQTT_TOO_LARGE', '[MQTT5-2.1.4]', `PUBLISH of ${rem} bytes is over the limit of ${MQTT_MAX_REMAINING}`)
    }
    return 1 + varintSize(rem) + rem
}

/**
    Write an MQTT 5.0 PUBLISH (publish5Size's bytes) at pos; returns the position after it.
    @example const end = writePublish5(buf, pos, encodeTopic('a/b'), payload, 0, false, false, 0, encodeProperties({ contentType: 'text/plain' }, 'PUBLISH'))
 */
export function writePublish5(buf: Uint8Array, pos: number, topicBytes: Uint8Array, payload: Uint8Array, qos: number,
    retain: boolean, dup: boolean, id: number, props: Uint8Array | null): number {
    buf[pos] = 0x30 | (dup ? 8 : 0) | (qos << 1) | (retain ? 1 : 0)
    const rem = topicBytes.length + (qos > 0 ? 2 : 0) + (props?.length ?? 1) + payload.length
    pos = writeVarint(buf, pos + 1, rem)
    buf.set(topicBytes, pos)
    pos += topicBytes.length
    if (qos > 0) {
        buf[pos++] = id >> 8
        buf[pos++] = id & 255
    }
    if (props === null) {
        buf[pos++] = 0
    } else {
        buf.set(props, pos)
        pos += props.length
    }
    buf.set(payload, pos)
    return pos + payload.length
}

/**
    An MQTT 5.0 PUBLISH from an encoded topic (encodeTopic's bytes) and an encoded property list (encodeProperties;
    null for none).
    @example const bytes = encodePublish5(encodeTopic('a/b'), payload, 1, false, false, 7)
 */
export function encodePublish5(topicBytes: Uint8Array, payload: Uint8Array, qos: number, retain: boolean, dup: boolean, id: number,
    props: Uint8Array | null = null): Uint8Array {
    const size = publish5Size(topicBytes, payload, qos, props)
    const out = new Uint8Array(size)
    writePublish5(out, 0, topicBytes, payload, qos, retain, dup, id, props)
    return out
}

/**
    A property list encoded with its length first, for a packet of this place; throws MqttCodecError when the
    place may not carry a property or a value is out of range.
    @example const props = encodeProperties({ contentType: 'application/json' }, 'PUBLISH')
 */
export function encodeProperties(props: Properties, place: PropertyPlace): Uint8Array {
    const n = propertiesSize(props, place)
    const out = new Uint8Array(varintSize(n) + n)
    writeProperties(out, 0, props, n)
    return out
}
