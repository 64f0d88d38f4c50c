/*
    UTF-8 strings as MQTT requires them: well-formed [MQTT-1.5.3-1], without U+0000 [MQTT-1.5.3-2], a BOM kept
    as is [MQTT-1.5.3-3], at most 65,535 bytes [MQTT-1.5.3]. ASCII takes a fast path both ways.
 */
import { asciiString } from './bytes.js'
import { fail } from './errors.js'

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const encoder = new TextEncoder()

/**
    Decode a PUBLISH topic name in one pass: well-formed UTF-8, no U+0000, no wildcards [MQTT-3.3.2-2],
    not empty [MQTT-4.7.3-1].
 */
export function decodeTopicName(buf: Uint8Array, start: number, end: number): string {
    /* The same topic as the last one (a stream of messages on one topic): the same string, checked already. The
       same string object also keeps its hash, so the route lookup that follows is cheaper. */
    if (skip > 0) {
        /* Topics have been changing: the cache rests for a while, costing nothing */
        skip--
        return checkTopicName(buf, start, end)
    }
    const n = end - start
    if (n === lastLength) {
        let i = 0
        while (i < n && buf[start + i] === lastBytes[i]) {
            i++
        }
        if (i === n) {
            misses = 0
            return lastTopic
        }
    }
    if (++misses >= 8) {
        misses = 0
        skip = 256
    }
    const topic = checkTopicName(buf, start, end)
    if (n <= TOPIC_CACHE) {
        for (let i = 0; i < n; i++) {
            lastBytes[i] = buf[start + i]
        }
        lastLength = n
        lastTopic = topic
    }
    return topic
}

const TOPIC_CACHE = 128
const lastBytes = new Uint8Array(TOPIC_CACHE)
let lastLength = -1
let lastTopic = ''
/* Misses in a row, and how many topics to decode without the cache after too many */
let misses = 0
let skip = 0

function checkTopicName(buf: Uint8Array, start: number, end: number): string {
    if (start === end) {
        fail('MQTT_BAD_TOPIC', '[MQTT-4.7.3-1]', 'A topic name must be at least one character long')
    }
    let high = false
    for (let i = start; i < end; i++) {
        const c = buf[i]
        if (c === 0x23 || c === 0x2b) {
            fail('MQTT_BAD_TOPIC', '[MQTT-3.3.2-2]', 'A topic name must not contain wildcards')
        }
        if (c === 0) {
            fail('MQTT_BAD_UTF8', '[MQTT-1.5.3-2]', 'String contains U+0000')
        }
        if (c > 0x7f) {
            high = true
        }
    }
    return high ? decodeUtf8(buf, start, end) : asciiString(buf, start, end)
}

/**
    Decode bytes [start, end) as an MQTT UTF-8 string, or throw MQTT_BAD_UTF8.
    @example const text = decodeUtf8(buf, 2, 2 + len)
 */
export function decodeUtf8(buf: Uint8Array, start: number, end: number): string {
    let i = start
    for (; i < end; i++) {
        const c = buf[i]
        if (c === 0) {
            fail('MQTT_BAD_UTF8', '[MQTT-1.5.3-2]', 'String contains U+0000')
        }
        if (c > 0x7f) {
            break
        }
    }
    if (i === end) {
        return asciiString(buf, start, end)
    }
    for (let j = i; j < end; j++) {
        if (buf[j] === 0) {
            fail('MQTT_BAD_UTF8', '[MQTT-1.5.3-2]', 'String contains U+0000')
        }
    }
    try {
        return decoder.decode(buf.subarray(start, end))
    } catch {
        return fail('MQTT_BAD_UTF8', '[MQTT-1.5.3-1]', 'String is not well-formed UTF-8')
    }
}

/**
    UTF-8 byte length of s; -1 when s cannot be an MQTT string (lone surrogate or U+0000).
    @example if (utf8Length(topic) > 65535) throw new Error('topic too long')
 */
export function utf8Length(s: string): number {
    let n = s.length
    for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i)
        if (c < 0x80) {
            if (c === 0) {
                return -1
            }
        } else if (c < 0x800) {
            n += 1
        } else if (c >= 0xd800 && c <= 0xdbff) {
            const d = s.charCodeAt(i + 1)
            if (!(d >= 0xdc00 && d <= 0xdfff)) {
                return -1
            }
            n += 2
            i++
        } else if (c >= 0xdc00 && c <= 0xdfff) {
            return -1
        } else {
            n += 2
        }
    }
    return n
}

/** Write s (whose UTF-8 length is len) at pos; returns the new position. */
export function writeUtf8(buf: Uint8Array, pos: number, s: string, len: number): number {
    if (len === s.length) {
        for (let i = 0; i < len; i++) {
            buf[pos + i] = s.charCodeAt(i)
        }
        return pos + len
    }
    encoder.encodeInto(s, buf.subarray(pos, pos + len))
    return pos + len
}

const strict = new TextDecoder('utf-8', { fatal: true })

/** Whether the bytes are well-formed UTF-8 (a payload marked as such by its Payload Format Indicator). */
export function isUtf8(bytes: Uint8Array): boolean {
    try {
        strict.decode(bytes)
        return true
    } catch {
        return false
    }
}
