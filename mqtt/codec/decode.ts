/*
    MQTT 3.1.1 packet parsing, free of I/O: one whole packet in, a Packet out, or MqttCodecError naming the rule
    broken. Framing (chunks, split packets, the size limit) is MqttDecoder's (decoder.ts).
 */
import { PACKET_NAMES } from '../constants.js'
import { topicFilterProblem, topicNameProblem } from '../topic.js'
import { fail } from './errors.js'
import type { Packet, Subscription, Will } from './packets.js'
import { decodeTopicName, decodeUtf8 } from './utf8.js'

/* Required fixed-header flags per type [MQTT-2.2.2-1]; PUBLISH (3) is checked on its own; -1 marks reserved types */
const FLAGS = [-1, 0, 0, 0, 0, 0, 2, 0, 2, 0, 2, 0, 0, 0, 0, -1]

/* Read position inside the packet being parsed (module state: no tuple per field) */
let cursor = 0

/**
    The fixed header's first byte: a known type with its required flags [MQTT-2.2.2-1]. MQTT 5 passes its own
    table (AUTH, type 15, is no longer reserved) and names.
 */
export function checkFirstByte(b: number, table: readonly number[] = FLAGS, names: readonly string[] = PACKET_NAMES): void {
    const type = b >> 4
    const flags = b & 0x0f
    const required = table[type]
    if (required < 0) {
        fail('MQTT_BAD_TYPE', '[MQTT-2.2.1]', `Packet type ${type} is reserved`)
    }
    if (type === 3) {
        if ((flags & 0x06) === 0x06) {
            fail('MQTT_BAD_QOS', '[MQTT-3.3.1-4]', 'PUBLISH with QoS 3')
        }
        if ((flags & 0x08) && (flags & 0x06) === 0) {
            fail('MQTT_BAD_FLAGS', '[MQTT-3.3.1-2]', 'DUP set on a QoS 0 PUBLISH')
        }
    } else if (flags !== required) {
        fail('MQTT_BAD_FLAGS', '[MQTT-2.2.2-2]', `${names[type]} with reserved flags 0x${flags.toString(16)}`)
    }
}

/* Check the fixed header's first byte and skip the remaining length (the caller measured it): the packet's type */
function begin(buf: Uint8Array, start: number): number {
    const b = buf[start]
    checkFirstByte(b)
    cursor = start + 1
    while (buf[cursor++] & 0x80) {
        /* skip */
    }
    return b >> 4
}

/**
    Parse one whole packet occupying [start, end) of buf (the fixed header included), of any type: a broker's or
    a test peer's view. Payload fields are views into buf.
    @example const p = parse(bytes, 0, bytes.length)
 */
export function parse(buf: Uint8Array, start: number, end: number): Packet {
    switch (begin(buf, start)) {
    case 1:
        return parseConnect(buf, end)
    case 8:
        return parseSubscribe(buf, end)
    case 10:
        return parseUnsubscribe(buf, end)
    default:
        return parseRest(buf, buf[start], end)
    }
}

/**
    Parse one whole packet as a client reads it: the packets a server sends, in full. CONNECT, SUBSCRIBE and
    UNSUBSCRIBE, which only a client sends, come as their type and packet identifier alone: the client refuses
    them from a broker ("Unexpected SUBSCRIBE from the broker") and its packet trace names them, so a client
    carries no parser for their payloads. MqttDecoder's parse reads them whole.
    @example const p = parseFromServer(bytes, 0, bytes.length)
 */
export function parseFromServer(buf: Uint8Array, start: number, end: number): Packet {
    const type = begin(buf, start)
    if (type === 1) {
        return { type } as Packet
    }
    return type === 8 || type === 10 ? { type, id: readId(buf, end) } as Packet : parseRest(buf, buf[start], end)
}

/* Every type but CONNECT, SUBSCRIBE and UNSUBSCRIBE, the cursor past the fixed header */
function parseRest(buf: Uint8Array, b: number, end: number): Packet {
    const type = b >> 4
    const rem = end - cursor
    switch (type) {
    case 2: {
        fixed(rem, 2, 'CONNACK')
        const ack = buf[cursor]
        const returnCode = buf[cursor + 1]
        if (ack & 0xfe) {
            fail('MQTT_BAD_CONNACK', '[MQTT-3.2.2-1]', 'CONNACK with reserved acknowledge flags set')
        }
        if (returnCode > 5) {
            fail('MQTT_BAD_CONNACK', '[MQTT-3.2.2-6]', `CONNACK return code ${returnCode} is reserved`)
        }
        if ((ack & 1) && returnCode !== 0) {
            fail('MQTT_BAD_CONNACK', '[MQTT-3.2.2-4]', 'CONNACK refusal with session present set')
        }
        return { type: 2, sessionPresent: (ack & 1) === 1, returnCode }
    }
    case 3: {
        const qos = (b >> 1) & 3
        const n = readLength(buf, end, 'Topic name')
        const topic = decodeTopicName(buf, cursor, cursor + n)
        cursor += n
        const id = qos > 0 ? readId(buf, end) : 0
        return { type: 3, dup: (b & 8) !== 0, qos, retain: (b & 1) !== 0, topic, id, payload: view(buf, cursor, end) }
    }
    case 4: case 5: case 6: case 7: case 11:
        fixed(rem, 2, PACKET_NAMES[type])
        return { type, id: readId(buf, end) } as Packet
    case 9: {
        const id = readId(buf, end)
        if (cursor >= end) {
            fail('MQTT_EMPTY', '[MQTT-3.9.3-1]', 'SUBACK without a return code')
        }
        const granted: number[] = []
        for (; cursor < end; cursor++) {
            const code = buf[cursor]
            if (code > 2 && code !== 0x80) {
                fail('MQTT_BAD_SUBACK', '[MQTT-3.9.3-2]', `SUBACK return code 0x${code.toString(16)} is reserved`)
            }
            granted.push(code)
        }
        return { type: 9, id, granted }
    }
    default:
        fixed(rem, 0, PACKET_NAMES[type])
        return { type } as Packet
    }
}

function parseSubscribe(buf: Uint8Array, end: number): Packet {
    const id = readId(buf, end)
    const subscriptions: Subscription[] = []
    while (cursor < end) {
        const topic = readFilter(buf, end)
        if (cursor >= end) {
            fail('MQTT_BAD_LENGTH', '[MQTT-3.8.3-1]', 'SUBSCRIBE filter without a QoS byte')
        }
        const qos = buf[cursor++]
        if (qos & 0xfc) {
            fail('MQTT_BAD_QOS', '[MQTT-3.8.3-4]', `SUBSCRIBE with requested QoS byte 0x${qos.toString(16)}`)
        }
        if (qos === 3) {
            fail('MQTT_BAD_QOS', '[MQTT-3.8.3-4]', 'SUBSCRIBE with requested QoS 3')
        }
        subscriptions.push({ topic, qos })
    }
    if (subscriptions.length === 0) {
        fail('MQTT_EMPTY', '[MQTT-3.8.3-3]', 'SUBSCRIBE without a topic filter')
    }
    return { type: 8, id, subscriptions }
}

function parseUnsubscribe(buf: Uint8Array, end: number): Packet {
    const id = readId(buf, end)
    const topics: string[] = []
    while (cursor < end) {
        topics.push(readFilter(buf, end))
    }
    if (topics.length === 0) {
        fail('MQTT_EMPTY', '[MQTT-3.10.3-2]', 'UNSUBSCRIBE without a topic filter')
    }
    return { type: 10, id, topics }
}

function fixed(rem: number, expected: number, name: string): void {
    if (rem !== expected) {
        fail('MQTT_BAD_LENGTH', '[MQTT-2.2.3]', `${name} remaining length must be ${expected}, not ${rem}`)
    }
}

function readId(buf: Uint8Array, end: number): number {
    if (cursor + 2 > end) {
        fail('MQTT_BAD_LENGTH', '[MQTT-2.3.1]', 'Packet ends inside its packet identifier')
    }
    const id = (buf[cursor] << 8) | buf[cursor + 1]
    cursor += 2
    if (id === 0) {
        fail('MQTT_BAD_ID', '[MQTT-2.3.1-1]', 'Packet identifier 0')
    }
    return id
}

function readLength(buf: Uint8Array, end: number, what: string): number {
    if (cursor + 2 > end) {
        fail('MQTT_BAD_LENGTH', '[MQTT-1.5.3]', `${what}: length runs past the end of the packet`)
    }
    const n = (buf[cursor] << 8) | buf[cursor + 1]
    cursor += 2
    if (cursor + n > end) {
        fail('MQTT_BAD_LENGTH', '[MQTT-1.5.3]', `${what}: ${n} bytes run past the end of the packet`)
    }
    return n
}

function readString(buf: Uint8Array, end: number, what: string): string {
    const n = readLength(buf, end, what)
    const s = decodeUtf8(buf, cursor, cursor + n)
    cursor += n
    return s
}

/* A plain Uint8Array view (Buffer's own subarray is slower: it goes through the species constructor) */
function view(buf: Uint8Array, start: number, end: number): Uint8Array {
    return new Uint8Array(buf.buffer, buf.byteOffset + start, end - start)
}

function readBinary(buf: Uint8Array, end: number, what: string): Uint8Array {
    const n = readLength(buf, end, what)
    const b = view(buf, cursor, cursor + n)
    cursor += n
    return b
}

function readFilter(buf: Uint8Array, end: number): string {
    const filter = readString(buf, end, 'Topic filter')
    const problem = topicFilterProblem(filter)
    if (problem !== null) {
        fail('MQTT_BAD_FILTER', problem.rule, problem.message)
    }
    return filter
}

function parseConnect(buf: Uint8Array, end: number): Packet {
    const protocolName = readString(buf, end, 'Protocol name')
    if (protocolName !== 'MQTT') {
        fail('MQTT_BAD_CONNECT', '[MQTT-3.1.2-1]', `Protocol name "${protocolName}" is not "MQTT"`)
    }
    if (cursor + 4 > end) {
        fail('MQTT_BAD_LENGTH', '[MQTT-3.1.2]', 'CONNECT ends inside its variable header')
    }
    const protocolLevel = buf[cursor++]
    const flags = buf[cursor++]
    const keepAlive = (buf[cursor] << 8) | buf[cursor + 1]
    cursor += 2
    if (flags & 0x01) {
        fail('MQTT_BAD_CONNECT', '[MQTT-3.1.2-3]', 'CONNECT with the reserved flag set')
    }
    const willQos = (flags >> 3) & 3
    if (!(flags & 0x04) && (willQos || (flags & 0x20))) {
        fail('MQTT_BAD_CONNECT', '[MQTT-3.1.2-11]', 'Will QoS or retain set without the will flag')
    }
    if (willQos === 3) {
        fail('MQTT_BAD_CONNECT', '[MQTT-3.1.2-14]', 'Will QoS 3')
    }
    if ((flags & 0x40) && !(flags & 0x80)) {
        fail('MQTT_BAD_CONNECT', '[MQTT-3.1.2-22]', 'Password flag without the user name flag')
    }
    const clientId = readString(buf, end, 'Client identifier')
    let will: Will | null = null
    if (flags & 0x04) {
        const topic = readString(buf, end, 'Will topic')
        const problem = topicNameProblem(topic)
        if (problem !== null) {
            fail('MQTT_BAD_TOPIC', problem.rule, `Will topic: ${problem.message}`)
        }
        will = { topic, payload: readBinary(buf, end, 'Will message'), qos: willQos, retain: (flags & 0x20) !== 0 }
    }
    const username = flags & 0x80 ? readString(buf, end, 'User name') : null
    const password = flags & 0x40 ? readBinary(buf, end, 'Password') : null
    if (cursor !== end) {
        fail('MQTT_BAD_LENGTH', '[MQTT-3.1.3]', `CONNECT has ${end - cursor} bytes after its payload`)
    }
    return { type: 1, protocolName, protocolLevel, clean: (flags & 0x02) !== 0, keepAlive, clientId, will, username, password }
}
