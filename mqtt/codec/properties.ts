/*
    MQTT 5.0 properties (OASIS MQTT 5.0, section 2.2.2): the identifier table, with each property's data type
    and the packets that may carry it, and the reading and writing of a property list, free of I/O. Every
    violation a receiver must treat as a Protocol Error or a Malformed Packet throws MqttCodecError naming
    the section or rule: a property in a packet that may not carry it, a property given twice (User Property,
    and Subscription Identifier in PUBLISH, excepted), a value out of range, a length that runs past the end.
 */
import { fail } from './errors.js'
import { decodeUtf8, utf8Length, writeUtf8 } from './utf8.js'
import { readVarint, varintSize, writeVarint } from './varint.js'

export { readVarint, varintSize, writeVarint }

/** Where a property list sits: a packet type, or a CONNECT's will. */
export type PropertyPlace = 'CONNECT' | 'CONNACK' | 'PUBLISH' | 'PUBACK' | 'PUBREC' | 'PUBREL' | 'PUBCOMP' | 'SUBSCRIBE'
    | 'SUBACK' | 'UNSUBSCRIBE' | 'UNSUBACK' | 'DISCONNECT' | 'AUTH' | 'WILL'

/** The properties of a packet; absent ones are left out. */
export interface Properties {
    payloadFormatIndicator?: number
    messageExpiryInterval?: number
    contentType?: string
    responseTopic?: string
    correlationData?: Uint8Array
    /** Subscription Identifier: several in a PUBLISH, one in a SUBSCRIBE */
    subscriptionIdentifiers?: number[]
    sessionExpiryInterval?: number
    assignedClientIdentifier?: string
    serverKeepAlive?: number
    authenticationMethod?: string
    authenticationData?: Uint8Array
    requestProblemInformation?: number
    willDelayInterval?: number
    requestResponseInformation?: number
    responseInformation?: string
    serverReference?: string
    reasonString?: string
    receiveMaximum?: number
    topicAliasMaximum?: number
    topicAlias?: number
    maximumQos?: number
    retainAvailable?: number
    /** Name/value pairs, in order; a name may repeat */
    userProperties?: [string, string][]
    maximumPacketSize?: number
    wildcardSubscriptionAvailable?: number
    subscriptionIdentifierAvailable?: number
    sharedSubscriptionAvailable?: number
}

type Kind = 'byte' | 'two' | 'four' | 'varint' | 'string' | 'binary' | 'pair'

interface Def {
    id: number
    name: keyof Properties
    kind: Kind
    places: readonly PropertyPlace[]
    /** Allowed values beyond the type's range: [min, max] */
    range?: readonly [number, number]
    /** Where the rule on its value is stated */
    rule?: string
}

const ACKS: readonly PropertyPlace[] = ['PUBACK', 'PUBREC', 'PUBREL', 'PUBCOMP']
const MESSAGE: readonly PropertyPlace[] = ['PUBLISH', 'WILL']
const FLAG = [0, 1] as const

/** The property table [MQTT5-2.2.2.2] */
export const PROPERTY_DEFS: readonly Def[] = [
    { id: 0x01, name: 'payloadFormatIndicator', kind: 'byte', places: MESSAGE, range: FLAG, rule: '[MQTT5-3.3.2.3.2]' },
    { id: 0x02, name: 'messageExpiryInterval', kind: 'four', places: MESSAGE },
    { id: 0x03, name: 'contentType', kind: 'string', places: MESSAGE },
    { id: 0x08, name: 'responseTopic', kind: 'string', places: MESSAGE },
    { id: 0x09, name: 'correlationData', kind: 'binary', places: MESSAGE },
    { id: 0x0b, name: 'subscriptionIdentifiers', kind: 'varint', places: ['PUBLISH', 'SUBSCRIBE'], range: [1, 268_435_455], rule: '[MQTT5-3.8.2.1.2]' },
    { id: 0x11, name: 'sessionExpiryInterval', kind: 'four', places: ['CONNECT', 'CONNACK', 'DISCONNECT'] },
    { id: 0x12, name: 'assignedClientIdentifier', kind: 'string', places: ['CONNACK'] },
    { id: 0x13, name: 'serverKeepAlive', kind: 'two', places: ['CONNACK'] },
    { id: 0x15, name: 'authenticationMethod', kind: 'string', places: ['CONNECT', 'CONNACK', 'AUTH'] },
    { id: 0x16, name: 'authenticationData', kind: 'binary', places: ['CONNECT', 'CONNACK', 'AUTH'] },
    { id: 0x17, name: 'requestProblemInformation', kind: 'byte', places: ['CONNECT'], range: FLAG, rule: '[MQTT5-3.1.2.11.7]' },
    { id: 0x18, name: 'willDelayInterval', kind: 'four', places: ['WILL'] },
    { id: 0x19, name: 'requestResponseInformation', kind: 'byte', places: ['CONNECT'], range: FLAG, rule: '[MQTT5-3.1.2.11.6]' },
    { id: 0x1a, name: 'responseInformation', kind: 'string', places: ['CONNACK'] },
    { id: 0x1c, name: 'serverReference', kind: 'string', places: ['CONNACK', 'DISCONNECT'] },
    { id: 0x1f, name: 'reasonString', kind: 'string', places: ['CONNACK', ...ACKS, 'SUBACK', 'UNSUBACK', 'DISCONNECT', 'AUTH'] },
    { id: 0x21, name: 'receiveMaximum', kind: 'two', places: ['CONNECT', 'CONNACK'], range: [1, 65535], rule: '[MQTT5-3.1.2.11.3]' },
    { id: 0x22, name: 'topicAliasMaximum', kind: 'two', places: ['CONNECT', 'CONNACK'] },
    { id: 0x23, name: 'topicAlias', kind: 'two', places: ['PUBLISH'], range: [1, 65535], rule: '[MQTT-3.3.2-8]' },
    { id: 0x24, name: 'maximumQos', kind: 'byte', places: ['CONNACK'], range: FLAG, rule: '[MQTT5-3.2.2.3.4]' },
    { id: 0x25, name: 'retainAvailable', kind: 'byte', places: ['CONNACK'], range: FLAG, rule: '[MQTT5-3.2.2.3.5]' },
    { id: 0x26, name: 'userProperties', kind: 'pair', places: ['CONNECT', 'CONNACK', 'PUBLISH', 'WILL', ...ACKS, 'SUBSCRIBE', 'SUBACK', 'UNSUBSCRIBE', 'UNSUBACK', 'DISCONNECT', 'AUTH'] },
    { id: 0x27, name: 'maximumPacketSize', kind: 'four', places: ['CONNECT', 'CONNACK'], range: [1, 4_294_967_295], rule: '[MQTT5-3.1.2.11.4]' },
    { id: 0x28, name: 'wildcardSubscriptionAvailable', kind: 'byte', places: ['CONNACK'], range: FLAG, rule: '[MQTT5-3.2.2.3.11]' },
    { id: 0x29, name: 'subscriptionIdentifierAvailable', kind: 'byte', places: ['CONNACK'], range: FLAG, rule: '[MQTT5-3.2.2.3.12]' },
    { id: 0x2a, name: 'sharedSubscriptionAvailable', kind: 'byte', places: ['CONNACK'], range: FLAG, rule: '[MQTT5-3.2.2.3.13]' },
]

const BY_ID: (Def | undefined)[] = []
const BY_NAME = new Map<string, Def>()
for (const d of PROPERTY_DEFS) {
    BY_ID[d.id] = d
    BY_NAME.set(d.name, d)
}

const MAX: Record<Kind, number> = { byte: 255, two: 65535, four: 4_294_967_295, varint: 268_435_455, string: 0, binary: 0, pair: 0 }


function stringSize(s: unknown, what: string): number {
    const len = typeof s === 'string' ? utf8Length(s) : -1
    if (len < 0) {
        fail('MQTT_BAD_UTF8', '[MQTT-1.5.4-1]', `${what} must be well-formed UTF-8 without U+0000`)
    }
    if (len > 65535) {
        fail('MQTT_BAD_STRING', '[MQTT5-1.5.4]', `${what} is longer than 65,535 bytes`)
    }
    return 2 + len
}

function binarySize(b: unknown, what: string): number {
    if (!(b instanceof Uint8Array)) {
        fail('MQTT_BAD_ARGS', '', `${what} must be bytes`)
    }
    if (b.length > 65535) {
        fail('MQTT_BAD_STRING', '[MQTT5-1.5.6]', `${what} is longer than 65,535 bytes`)
    }
    return 2 + b.length
}

function checkNumber(d: Def, v: unknown): number {
    const [min, max] = d.range ?? [0, MAX[d.kind]]
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
        fail('MQTT_BAD_PROPERTY', d.rule ?? '[MQTT5-2.2.2.2]', `Property ${d.name} must be an integer from ${min} to ${max} (got ${String(v)})`)
    }
    return v
}

function valueSize(d: Def, v: unknown): number {
    switch (d.kind) {
    case 'byte': checkNumber(d, v); return 1
    case 'two': checkNumber(d, v); return 2
    case 'four': checkNumber(d, v); return 4
    case 'varint': return varintSize(checkNumber(d, v))
    case 'string': return stringSize(v, `Property ${d.name}`)
    case 'binary': return binarySize(v, `Property ${d.name}`)
    default: {
        const pair = v as [unknown, unknown]
        if (!Array.isArray(pair) || pair.length !== 2) {
            fail('MQTT_BAD_ARGS', '', 'A user property is a [name, value] pair of strings')
        }
        return stringSize(pair[0], 'User property name') + stringSize(pair[1], 'User property value')
    }
    }
}

/* The values a property holds: arrays for the repeatable ones */
function values(d: Def, v: unknown): unknown[] {
    if (d.name === 'userProperties' || d.name === 'subscriptionIdentifiers') {
        if (!Array.isArray(v)) {
            fail('MQTT_BAD_ARGS', '', `Property ${d.name} must be an array`)
        }
        return v
    }
    return [v]
}

/**
    The encoded length of a property list (without its own length prefix); throws MqttCodecError for a
    property the place may not carry or a value out of range.
    @example const n = propertiesSize({ sessionExpiryInterval: 3600 }, 'CONNECT')   // 5
 */
export function propertiesSize(props: Properties | null | undefined, place: PropertyPlace): number {
    let size = 0
    if (props === null || props === undefined) {
        return 0
    }
    for (const [name, v] of Object.entries(props)) {
        if (v === undefined) {
            continue
        }
        const d = BY_NAME.get(name)
        if (d === undefined) {
            fail('MQTT_BAD_ARGS', '', `Unknown property "${name}"`)
        }
        if (!d.places.includes(place)) {
            fail('MQTT_BAD_PROPERTY', '[MQTT5-2.2.2.2]', `Property ${d.name} may not appear in ${place}`)
        }
        const list = values(d, v)
        if (d.name === 'subscriptionIdentifiers' && place === 'SUBSCRIBE' && list.length > 1) {
            fail('MQTT_BAD_PROPERTY', '[MQTT5-3.8.2.1.2]', 'A SUBSCRIBE carries one Subscription Identifier at most')
        }
        for (const one of list) {
            size += 1 + valueSize(d, one)
        }
    }
    return size
}

/**
    Write a property list (its length prefix included) at pos; `size` is propertiesSize's result. Returns the
    position after it.
    @example pos = writeProperties(buf, pos, props, propertiesSize(props, 'PUBLISH'))
 */
export function writeProperties(buf: Uint8Array, pos: number, props: Properties | null | undefined, size: number): number {
    pos = writeVarint(buf, pos, size)
    if (props === null || props === undefined) {
        return pos
    }
    for (const [name, v] of Object.entries(props)) {
        if (v === undefined) {
            continue
        }
        const d = BY_NAME.get(name)!
        for (const one of values(d, v)) {
            buf[pos++] = d.id
            pos = writeValue(buf, pos, d.kind, one)
        }
    }
    return pos
}

function writeString(buf: Uint8Array, pos: number, s: string): number {
    const len = utf8Length(s)
    buf[pos] = len >> 8
    buf[pos + 1] = len & 255
    return writeUtf8(buf, pos + 2, s, len)
}

function writeValue(buf: Uint8Array, pos: number, kind: Kind, v: unknown): number {
    switch (kind) {
    case 'byte':
        buf[pos] = v as number
        return pos + 1
    case 'two':
        buf[pos] = (v as number) >> 8
        buf[pos + 1] = (v as number) & 255
        return pos + 2
    case 'four': {
        const n = v as number
        buf[pos] = n >>> 24
        buf[pos + 1] = (n >>> 16) & 255
        buf[pos + 2] = (n >>> 8) & 255
        buf[pos + 3] = n & 255
        return pos + 4
    }
    case 'varint':
        return writeVarint(buf, pos, v as number)
    case 'string':
        return writeString(buf, pos, v as string)
    case 'binary': {
        const b = v as Uint8Array
        buf[pos] = b.length >> 8
        buf[pos + 1] = b.length & 255
        buf.set(b, pos + 2)
        return pos + 2 + b.length
    }
    default: {
        const [k, val] = v as [string, string]
        return writeString(buf, writeString(buf, pos, k), val)
    }
    }
}


/**
    Read the property list at pos (its length prefix first) of a packet of this place: [properties, position
    after]. Strings are copies; binary values are views into buf.
    @example const [props, next] = readProperties(bytes, pos, end, 'CONNACK')
 */
export function readProperties(buf: Uint8Array, pos: number, end: number, place: PropertyPlace): [Properties, number] {
    const [length, start] = readVarint(buf, pos, end, `${place} properties length`)
    const stop = start + length
    if (stop > end) {
        fail('MQTT_BAD_LENGTH', '[MQTT5-2.2.2.1]', `${place} properties (${length} bytes) run past the end of the packet`)
    }
    const props: Properties = {}
    const seen = new Set<number>()
    let at = start
    while (at < stop) {
        const [id, next] = readVarint(buf, at, stop, `${place} property identifier`)
        at = next
        const d = BY_ID[id]
        if (d === undefined) {
            fail('MQTT_BAD_PROPERTY', '[MQTT5-2.2.2.2]', `Unknown property identifier 0x${id.toString(16)} in ${place}`)
        }
        if (!d.places.includes(place)) {
            fail('MQTT_BAD_PROPERTY', '[MQTT5-2.2.2.2]', `Property ${d.name} (0x${id.toString(16)}) may not appear in ${place}`)
        }
        const repeatable = d.name === 'userProperties' || (d.name === 'subscriptionIdentifiers' && place === 'PUBLISH')
        if (seen.has(id) && !repeatable) {
            fail('MQTT_BAD_PROPERTY', '[MQTT5-2.2.2.2]', `Property ${d.name} appears more than once in ${place}`)
        }
        seen.add(id)
        let value: unknown
        ;[value, at] = readValue(buf, at, stop, d)
        if (d.name === 'userProperties' || d.name === 'subscriptionIdentifiers') {
            const list = (props[d.name] ??= [] as never) as unknown[]
            list.push(value)
        } else {
            (props as Record<string, unknown>)[d.name] = value
        }
    }
    return [props, stop]
}

function need(at: number, n: number, stop: number, d: Def): void {
    if (at + n > stop) {
        fail('MQTT_BAD_LENGTH', '[MQTT5-2.2.2.1]', `Property ${d.name} runs past the end of the property list`)
    }
}

function readStringAt(buf: Uint8Array, at: number, stop: number, d: Def): [string, number] {
    need(at, 2, stop, d)
    const n = (buf[at] << 8) | buf[at + 1]
    need(at + 2, n, stop, d)
    return [decodeUtf8(buf, at + 2, at + 2 + n), at + 2 + n]
}

function readValue(buf: Uint8Array, at: number, stop: number, d: Def): [unknown, number] {
    let v: number
    switch (d.kind) {
    case 'byte':
        need(at, 1, stop, d)
        v = buf[at]
        at += 1
        break
    case 'two':
        need(at, 2, stop, d)
        v = (buf[at] << 8) | buf[at + 1]
        at += 2
        break
    case 'four':
        need(at, 4, stop, d)
        v = ((buf[at] << 24) >>> 0) + (buf[at + 1] << 16) + (buf[at + 2] << 8) + buf[at + 3]
        at += 4
        break
    case 'varint':
        ;[v, at] = readVarint(buf, at, stop, `Property ${d.name}`)
        break
    case 'string':
        return readStringAt(buf, at, stop, d)
    case 'binary': {
        need(at, 2, stop, d)
        const n = (buf[at] << 8) | buf[at + 1]
        need(at + 2, n, stop, d)
        return [new Uint8Array(buf.buffer, buf.byteOffset + at + 2, n), at + 2 + n]
    }
    default: {
        const [k, after] = readStringAt(buf, at, stop, d)
        const [val, end] = readStringAt(buf, after, stop, d)
        return [[k, val], end]
    }
    }
    checkNumber(d, v)
    return [v, at]
}
