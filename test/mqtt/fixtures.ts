/*
    Codec fixtures: each packet with its bytes annotated field by field. Every fixture expands into parse,
    encode and round-trip tests, and is parsed split at every offset (codec.test.ts).
 */
import type { Packet } from '../../mqtt/index.js'

export type Field = [number | number[] | string, string]

export interface Fixture {
    name: string
    packet: Packet
    bytes: Field[]
}

export interface BadFixture {
    name: string
    bytes: Field[]
    code: string
    rule: string
}

const utf8 = new TextEncoder()

/** The bytes of an annotated field list (strings are UTF-8 bytes, without a length). */
export function bytesOf(fields: Field[]): Uint8Array {
    const out: number[] = []
    for (const [value] of fields) {
        if (typeof value === 'number') out.push(value)
        else if (typeof value === 'string') out.push(...utf8.encode(value))
        else out.push(...value)
    }
    return Uint8Array.from(out)
}

/** The packet types only a client sends: the client's decoder names them by type (and packet id), without their bodies */
export const CLIENT_ONLY = new Set([1, 8, 10])

/** A packet as the client's decoder gives it: as it is, or by type (and id) for one only a client sends. */
export function asClientReads(p: Packet): Packet | { type: number, id?: number } {
    return !CLIENT_ONLY.has(p.type) ? p : p.type === 1 ? { type: 1 } : { type: p.type, id: (p as { id: number }).id }
}

const b = (s: string) => utf8.encode(s)
const big = new Uint8Array(200).map((_, i) => i)

export const fixtures: Fixture[] = [
    {
        name: 'CONNECT minimal, clean session',
        packet: { type: 1, protocolName: 'MQTT', protocolLevel: 4, clean: true, keepAlive: 60, clientId: 'dev1', will: null, username: null, password: null },
        bytes: [
            [0x10, 'fixed header: CONNECT'], [16, 'remaining length'],
            [[0, 4], 'protocol name length'], ['MQTT', 'protocol name'], [4, 'protocol level 4 (3.1.1)'],
            [0x02, 'connect flags: clean session'], [[0, 60], 'keep-alive 60 s'],
            [[0, 4], 'client id length'], ['dev1', 'client id'],
        ],
    },
    {
        name: 'CONNECT with will, user name and password',
        packet: {
            type: 1, protocolName: 'MQTT', protocolLevel: 4, clean: false, keepAlive: 1200, clientId: 'device-42',
            will: { topic: 'status/dev', payload: b('offline'), qos: 1, retain: true }, username: 'user', password: b('secret'),
        },
        bytes: [
            [0x10, 'fixed header: CONNECT'], [56, 'remaining length'],
            [[0, 4], 'protocol name length'], ['MQTT', 'protocol name'], [4, 'protocol level'],
            [0xec, 'flags: user name, password, will retain, will QoS 1, will'], [[0x04, 0xb0], 'keep-alive 1200 s'],
            [[0, 9], 'client id length'], ['device-42', 'client id'],
            [[0, 10], 'will topic length'], ['status/dev', 'will topic'],
            [[0, 7], 'will message length'], ['offline', 'will message'],
            [[0, 4], 'user name length'], ['user', 'user name'],
            [[0, 6], 'password length'], ['secret', 'password'],
        ],
    },
    {
        name: 'CONNECT with an empty client id and a will of QoS 2',
        packet: {
            type: 1, protocolName: 'MQTT', protocolLevel: 4, clean: true, keepAlive: 0, clientId: '',
            will: { topic: 'w', payload: new Uint8Array(0), qos: 2, retain: false }, username: null, password: null,
        },
        bytes: [
            [0x10, 'fixed header: CONNECT'], [17, 'remaining length'],
            [[0, 4], 'protocol name length'], ['MQTT', 'protocol name'], [4, 'protocol level'],
            [0x16, 'flags: will QoS 2, will, clean session'], [[0, 0], 'keep-alive off'],
            [[0, 0], 'empty client id'], [[0, 1], 'will topic length'], ['w', 'will topic'], [[0, 0], 'empty will message'],
        ],
    },
    {
        name: 'CONNACK accepted',
        packet: { type: 2, sessionPresent: false, returnCode: 0 },
        bytes: [[0x20, 'fixed header: CONNACK'], [2, 'remaining length'], [0, 'acknowledge flags'], [0, 'return code: accepted']],
    },
    {
        name: 'CONNACK accepted with session present',
        packet: { type: 2, sessionPresent: true, returnCode: 0 },
        bytes: [[0x20, 'fixed header: CONNACK'], [2, 'remaining length'], [1, 'session present'], [0, 'accepted']],
    },
    {
        name: 'CONNACK refused: not authorized',
        packet: { type: 2, sessionPresent: false, returnCode: 5 },
        bytes: [[0x20, 'fixed header: CONNACK'], [2, 'remaining length'], [0, 'acknowledge flags'], [5, 'not authorized']],
    },
    {
        name: 'PUBLISH QoS 0',
        packet: { type: 3, dup: false, qos: 0, retain: false, topic: 'a/b', id: 0, payload: b('hi') },
        bytes: [[0x30, 'fixed header: PUBLISH QoS 0'], [7, 'remaining length'], [[0, 3], 'topic length'], ['a/b', 'topic'], ['hi', 'payload']],
    },
    {
        name: 'PUBLISH QoS 1 retained, resent (DUP)',
        packet: { type: 3, dup: true, qos: 1, retain: true, topic: 'x', id: 258, payload: b('v') },
        bytes: [
            [0x3b, 'fixed header: PUBLISH, DUP, QoS 1, RETAIN'], [6, 'remaining length'],
            [[0, 1], 'topic length'], ['x', 'topic'], [[1, 2], 'packet id 258'], ['v', 'payload'],
        ],
    },
    {
        name: 'PUBLISH QoS 2 with an empty payload and a UTF-8 topic',
        packet: { type: 3, dup: false, qos: 2, retain: false, topic: 'café/中', id: 65535, payload: new Uint8Array(0) },
        bytes: [
            [0x34, 'fixed header: PUBLISH QoS 2'], [13, 'remaining length'],
            [[0, 9], 'topic length (bytes)'], ['café/中', 'topic'], [[0xff, 0xff], 'packet id 65535'],
        ],
    },
    {
        name: 'PUBLISH with a two-byte remaining length',
        packet: { type: 3, dup: false, qos: 0, retain: false, topic: 't', id: 0, payload: big },
        bytes: [
            [0x30, 'fixed header: PUBLISH'], [[0xcb, 0x01], 'remaining length 203 (varint)'],
            [[0, 1], 'topic length'], ['t', 'topic'], [[...big], '200-byte payload'],
        ],
    },
    { name: 'PUBACK', packet: { type: 4, id: 1 }, bytes: [[0x40, 'fixed header: PUBACK'], [2, 'remaining length'], [[0, 1], 'packet id']] },
    { name: 'PUBREC', packet: { type: 5, id: 300 }, bytes: [[0x50, 'fixed header: PUBREC'], [2, 'remaining length'], [[1, 44], 'packet id 300']] },
    { name: 'PUBREL', packet: { type: 6, id: 300 }, bytes: [[0x62, 'fixed header: PUBREL, flags 0010'], [2, 'remaining length'], [[1, 44], 'packet id']] },
    { name: 'PUBCOMP', packet: { type: 7, id: 65535 }, bytes: [[0x70, 'fixed header: PUBCOMP'], [2, 'remaining length'], [[0xff, 0xff], 'packet id']] },
    {
        name: 'SUBSCRIBE with two filters',
        packet: { type: 8, id: 10, subscriptions: [{ topic: 'a/+', qos: 1 }, { topic: '#', qos: 2 }] },
        bytes: [
            [0x82, 'fixed header: SUBSCRIBE, flags 0010'], [12, 'remaining length'], [[0, 10], 'packet id'],
            [[0, 3], 'filter length'], ['a/+', 'filter'], [1, 'requested QoS 1'],
            [[0, 1], 'filter length'], ['#', 'filter'], [2, 'requested QoS 2'],
        ],
    },
    {
        name: 'SUBACK granting 0 and 1, and a failure',
        packet: { type: 9, id: 10, granted: [0, 1, 0x80] },
        bytes: [[0x90, 'fixed header: SUBACK'], [5, 'remaining length'], [[0, 10], 'packet id'], [[0, 1, 0x80], 'return codes']],
    },
    {
        name: 'UNSUBSCRIBE with two filters',
        packet: { type: 10, id: 11, topics: ['a/b', 'c/#'] },
        bytes: [
            [0xa2, 'fixed header: UNSUBSCRIBE, flags 0010'], [12, 'remaining length'], [[0, 11], 'packet id'],
            [[0, 3], 'filter length'], ['a/b', 'filter'], [[0, 3], 'filter length'], ['c/#', 'filter'],
        ],
    },
    { name: 'UNSUBACK', packet: { type: 11, id: 11 }, bytes: [[0xb0, 'fixed header: UNSUBACK'], [2, 'remaining length'], [[0, 11], 'packet id']] },
    { name: 'PINGREQ', packet: { type: 12 }, bytes: [[0xc0, 'fixed header: PINGREQ'], [0, 'remaining length']] },
    { name: 'PINGRESP', packet: { type: 13 }, bytes: [[0xd0, 'fixed header: PINGRESP'], [0, 'remaining length']] },
    { name: 'DISCONNECT', packet: { type: 14 }, bytes: [[0xe0, 'fixed header: DISCONNECT'], [0, 'remaining length']] },
]

export const badFixtures: BadFixture[] = [
    { name: 'reserved type 0', bytes: [[0x00, 'type 0'], [0, 'length']], code: 'MQTT_BAD_TYPE', rule: '[MQTT-2.2.1]' },
    { name: 'reserved type 15', bytes: [[0xf0, 'type 15'], [0, 'length']], code: 'MQTT_BAD_TYPE', rule: '[MQTT-2.2.1]' },
    { name: 'PUBACK with flags', bytes: [[0x41, 'PUBACK, flag bit 0'], [2, 'length'], [[0, 1], 'id']], code: 'MQTT_BAD_FLAGS', rule: '[MQTT-2.2.2-2]' },
    { name: 'PUBREL without its 0010 flags', bytes: [[0x60, 'PUBREL, flags 0000'], [2, 'length'], [[0, 1], 'id']], code: 'MQTT_BAD_FLAGS', rule: '[MQTT-2.2.2-2]' },
    { name: 'SUBSCRIBE without its 0010 flags', bytes: [[0x80, 'SUBSCRIBE, flags 0000'], [6, 'length'], [[0, 1], 'id'], [[0, 1], 'len'], ['a', 'filter'], [0, 'qos']], code: 'MQTT_BAD_FLAGS', rule: '[MQTT-2.2.2-2]' },
    { name: 'PINGREQ with flags', bytes: [[0xc8, 'PINGREQ, flag bit 3'], [0, 'length']], code: 'MQTT_BAD_FLAGS', rule: '[MQTT-2.2.2-2]' },
    { name: 'PUBLISH QoS 3', bytes: [[0x36, 'PUBLISH QoS 3'], [5, 'length'], [[0, 1], 'len'], ['a', 'topic'], [[0, 1], 'id']], code: 'MQTT_BAD_QOS', rule: '[MQTT-3.3.1-4]' },
    { name: 'PUBLISH QoS 0 with DUP', bytes: [[0x38, 'PUBLISH DUP QoS 0'], [3, 'length'], [[0, 1], 'len'], ['a', 'topic']], code: 'MQTT_BAD_FLAGS', rule: '[MQTT-3.3.1-2]' },
    { name: 'remaining length of 5 bytes', bytes: [[0x30, 'PUBLISH'], [[0xff, 0xff, 0xff, 0xff, 0x7f], 'five length bytes']], code: 'MQTT_BAD_LENGTH', rule: '[MQTT-2.2.3]' },
    { name: 'PUBLISH topic with a wildcard', bytes: [[0x30, 'PUBLISH'], [5, 'length'], [[0, 3], 'len'], ['a/+', 'topic']], code: 'MQTT_BAD_TOPIC', rule: '[MQTT-3.3.2-2]' },
    { name: 'PUBLISH with an empty topic', bytes: [[0x30, 'PUBLISH'], [3, 'length'], [[0, 0], 'empty topic'], ['x', 'payload']], code: 'MQTT_BAD_TOPIC', rule: '[MQTT-4.7.3-1]' },
    { name: 'PUBLISH topic with an overlong UTF-8 sequence', bytes: [[0x30, 'PUBLISH'], [4, 'length'], [[0, 2], 'len'], [[0xc0, 0xaf], 'overlong "/"']], code: 'MQTT_BAD_UTF8', rule: '[MQTT-1.5.3-1]' },
    { name: 'PUBLISH topic with an encoded surrogate', bytes: [[0x30, 'PUBLISH'], [5, 'length'], [[0, 3], 'len'], [[0xed, 0xa0, 0x80], 'U+D800']], code: 'MQTT_BAD_UTF8', rule: '[MQTT-1.5.3-1]' },
    { name: 'PUBLISH topic with U+0000', bytes: [[0x30, 'PUBLISH'], [5, 'length'], [[0, 3], 'len'], [[0x61, 0, 0x62], 'a NUL b']], code: 'MQTT_BAD_UTF8', rule: '[MQTT-1.5.3-2]' },
    { name: 'PUBLISH QoS 1 with packet id 0', bytes: [[0x32, 'PUBLISH QoS 1'], [5, 'length'], [[0, 1], 'len'], ['a', 'topic'], [[0, 0], 'id 0']], code: 'MQTT_BAD_ID', rule: '[MQTT-2.3.1-1]' },
    { name: 'PUBLISH topic length past the end', bytes: [[0x30, 'PUBLISH'], [3, 'length'], [[0, 10], 'len 10'], ['a', 'one byte']], code: 'MQTT_BAD_LENGTH', rule: '[MQTT-1.5.3]' },
    { name: 'PUBACK with packet id 0', bytes: [[0x40, 'PUBACK'], [2, 'length'], [[0, 0], 'id 0']], code: 'MQTT_BAD_ID', rule: '[MQTT-2.3.1-1]' },
    { name: 'PUBACK with a remaining length of 3', bytes: [[0x40, 'PUBACK'], [3, 'length'], [[0, 1, 0], 'id and a stray byte']], code: 'MQTT_BAD_LENGTH', rule: '[MQTT-2.2.3]' },
    { name: 'PINGRESP with a body', bytes: [[0xd0, 'PINGRESP'], [1, 'length'], [0, 'stray']], code: 'MQTT_BAD_LENGTH', rule: '[MQTT-2.2.3]' },
    { name: 'SUBSCRIBE without filters', bytes: [[0x82, 'SUBSCRIBE'], [2, 'length'], [[0, 1], 'id']], code: 'MQTT_EMPTY', rule: '[MQTT-3.8.3-3]' },
    { name: 'SUBSCRIBE requesting QoS 3', bytes: [[0x82, 'SUBSCRIBE'], [6, 'length'], [[0, 1], 'id'], [[0, 1], 'len'], ['a', 'filter'], [3, 'QoS 3']], code: 'MQTT_BAD_QOS', rule: '[MQTT-3.8.3-4]' },
    { name: 'SUBSCRIBE with reserved QoS bits', bytes: [[0x82, 'SUBSCRIBE'], [6, 'length'], [[0, 1], 'id'], [[0, 1], 'len'], ['a', 'filter'], [0x04, 'reserved bit']], code: 'MQTT_BAD_QOS', rule: '[MQTT-3.8.3-4]' },
    { name: 'SUBSCRIBE with "#" not last', bytes: [[0x82, 'SUBSCRIBE'], [10, 'length'], [[0, 1], 'id'], [[0, 5], 'len'], ['a/#/b', 'filter'], [0, 'qos']], code: 'MQTT_BAD_FILTER', rule: '[MQTT-4.7.1-2]' },
    { name: 'SUBSCRIBE with "+" inside a level', bytes: [[0x82, 'SUBSCRIBE'], [7, 'length'], [[0, 1], 'id'], [[0, 2], 'len'], ['x+', 'filter'], [0, 'qos']], code: 'MQTT_BAD_FILTER', rule: '[MQTT-4.7.1-3]' },
    { name: 'SUBSCRIBE filter without its QoS byte', bytes: [[0x82, 'SUBSCRIBE'], [5, 'length'], [[0, 1], 'id'], [[0, 1], 'len'], ['a', 'filter']], code: 'MQTT_BAD_LENGTH', rule: '[MQTT-3.8.3-1]' },
    { name: 'UNSUBSCRIBE without filters', bytes: [[0xa2, 'UNSUBSCRIBE'], [2, 'length'], [[0, 1], 'id']], code: 'MQTT_EMPTY', rule: '[MQTT-3.10.3-2]' },
    { name: 'SUBACK with a reserved return code', bytes: [[0x90, 'SUBACK'], [3, 'length'], [[0, 1], 'id'], [3, 'code 3']], code: 'MQTT_BAD_SUBACK', rule: '[MQTT-3.9.3-2]' },
    { name: 'SUBACK without return codes', bytes: [[0x90, 'SUBACK'], [2, 'length'], [[0, 1], 'id']], code: 'MQTT_EMPTY', rule: '[MQTT-3.9.3-1]' },
    { name: 'CONNACK with a reserved return code', bytes: [[0x20, 'CONNACK'], [2, 'length'], [0, 'flags'], [6, 'code 6']], code: 'MQTT_BAD_CONNACK', rule: '[MQTT-3.2.2-6]' },
    { name: 'CONNACK with reserved flags', bytes: [[0x20, 'CONNACK'], [2, 'length'], [2, 'bit 1'], [0, 'accepted']], code: 'MQTT_BAD_CONNACK', rule: '[MQTT-3.2.2-1]' },
    { name: 'CONNACK refusal with session present', bytes: [[0x20, 'CONNACK'], [2, 'length'], [1, 'session present'], [5, 'not authorized']], code: 'MQTT_BAD_CONNACK', rule: '[MQTT-3.2.2-4]' },
    { name: 'CONNACK too long', bytes: [[0x20, 'CONNACK'], [3, 'length'], [[0, 0, 0], 'three bytes']], code: 'MQTT_BAD_LENGTH', rule: '[MQTT-2.2.3]' },
    { name: 'CONNECT with protocol name MQIsdp', bytes: [[0x10, 'CONNECT'], [14, 'length'], [[0, 6], 'len'], ['MQIsdp', 'name'], [3, 'level'], [2, 'flags'], [[0, 0], 'keep-alive'], [[0, 0], 'client id']], code: 'MQTT_BAD_CONNECT', rule: '[MQTT-3.1.2-1]' },
    { name: 'CONNECT with the reserved flag', bytes: [[0x10, 'CONNECT'], [12, 'length'], [[0, 4], 'len'], ['MQTT', 'name'], [4, 'level'], [3, 'clean + reserved'], [[0, 0], 'keep-alive'], [[0, 0], 'client id']], code: 'MQTT_BAD_CONNECT', rule: '[MQTT-3.1.2-3]' },
    { name: 'CONNECT with will QoS but no will', bytes: [[0x10, 'CONNECT'], [12, 'length'], [[0, 4], 'len'], ['MQTT', 'name'], [4, 'level'], [0x0a, 'clean + will QoS 1'], [[0, 0], 'keep-alive'], [[0, 0], 'client id']], code: 'MQTT_BAD_CONNECT', rule: '[MQTT-3.1.2-11]' },
    { name: 'CONNECT with will QoS 3', bytes: [[0x10, 'CONNECT'], [12, 'length'], [[0, 4], 'len'], ['MQTT', 'name'], [4, 'level'], [0x1e, 'will QoS 3'], [[0, 0], 'keep-alive'], [[0, 0], 'client id']], code: 'MQTT_BAD_CONNECT', rule: '[MQTT-3.1.2-14]' },
    { name: 'CONNECT with a password but no user name', bytes: [[0x10, 'CONNECT'], [12, 'length'], [[0, 4], 'len'], ['MQTT', 'name'], [4, 'level'], [0x42, 'password + clean'], [[0, 0], 'keep-alive'], [[0, 0], 'client id']], code: 'MQTT_BAD_CONNECT', rule: '[MQTT-3.1.2-22]' },
    { name: 'CONNECT with bytes after its payload', bytes: [[0x10, 'CONNECT'], [13, 'length'], [[0, 4], 'len'], ['MQTT', 'name'], [4, 'level'], [2, 'clean'], [[0, 0], 'keep-alive'], [[0, 0], 'client id'], [9, 'stray']], code: 'MQTT_BAD_LENGTH', rule: '[MQTT-3.1.3]' },
]
