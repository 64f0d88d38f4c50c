/*
    The Variable Byte Integer [MQTT-1.5.5]: the fixed header's remaining length, and MQTT 5's property lengths
    and values: size, write, read.
 */
import { fail } from './errors.js'

/** Bytes of a Variable Byte Integer [MQTT5-1.5.5] */
export function varintSize(n: number): number {
    return n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : 4
}

/** Write a Variable Byte Integer (at most 268,435,455) at pos; returns the position after it. */
export function writeVarint(buf: Uint8Array, pos: number, n: number): number {
    do {
        let b = n & 0x7f
        n >>>= 7
        if (n > 0) {
            b |= 0x80
        }
        buf[pos++] = b
    } while (n > 0)
    return pos
}

/** Read a Variable Byte Integer at pos: [value, position after]; throws when malformed or past end [MQTT5-1.5.5]. */
export function readVarint(buf: Uint8Array, pos: number, end: number, what: string): [number, number] {
    let value = 0
    let mult = 1
    for (let i = 0; i < 4; i++) {
        if (pos >= end) {
            fail('MQTT_BAD_LENGTH', '[MQTT5-1.5.5]', `${what}: Variable Byte Integer runs past the end of the packet`)
        }
        const b = buf[pos++]
        value += (b & 0x7f) * mult
        if (!(b & 0x80)) {
            if (i > 0 && b === 0) {
                fail('MQTT_BAD_LENGTH', '[MQTT-1.5.5-1]', `${what}: Variable Byte Integer not in its shortest form`)
            }
            return [value, pos]
        }
        mult *= 128
    }
    fail('MQTT_BAD_LENGTH', '[MQTT5-1.5.5]', `${what}: Variable Byte Integer longer than 4 bytes`)
}
