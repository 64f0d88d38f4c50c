/*
    The durable store's record format, free of I/O. Each record is framed and checksummed, so a damaged
    record is found, skipped and the good records after it are still read:
        magic:u8 (0xF1) length:u32 crc:u32 body[length]
    crc is CRC-32C (Castagnoli) over the length field and the body. Bodies:
        'A' seq:u32 flags:u8 (qos | retain << 2 | properties << 3) topicLength:u16 topic
            [propertiesLength:u32 properties] payload                                a message
        'D' seq:u32                                                                 its deletion
    properties: an MQTT 5 message's property list as it goes on the wire (its length prefix first), present
    when flag 0x08 is set (files written before it existed read as they did).
 */

export interface StoredMessage {
    seq: number
    qos: number
    retain: boolean
    topic: string
    payload: Uint8Array
    /** MQTT 5: the message's encoded property list (its length first), or null */
    props?: Uint8Array | null
}

/** A stretch of the file that held no valid record. `tail`: it runs to the end (a write cut short by a crash). */
export interface Damage {
    offset: number
    length: number
    tail: boolean
}

export const MAGIC = 0xf1
export const HEADER = 9
const ADD = 0x41
const DELETE = 0x44

const CRC_TABLE = (() => {
    const table = new Uint32Array(256)
    for (let n = 0; n < 256; n++) {
        let c = n
        for (let k = 0; k < 8; k++) {
            c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1
        }
        table[n] = c >>> 0
    }
    return table
})()

function crcUpdate(c: number, b: Uint8Array, start: number, end: number): number {
    for (let i = start; i < end; i++) {
        c = CRC_TABLE[(c ^ b[i]) & 0xff] ^ (c >>> 8)
    }
    return c
}

/**
    CRC-32C of bytes [start, end).
    @example crc32c(new TextEncoder().encode('123456789'))   // 0xe3069283
 */
export function crc32c(b: Uint8Array, start = 0, end = b.length): number {
    return (crcUpdate(0xffffffff, b, start, end) ^ 0xffffffff) >>> 0
}

/* A record's checksum: its length field and its body (the checksum field itself left out) */
function crcOf(rec: Uint8Array): number {
    return (crcUpdate(crcUpdate(0xffffffff, rec, 1, 5), rec, HEADER, rec.length) ^ 0xffffffff) >>> 0
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

function frame(rec: Buffer): Buffer {
    rec[0] = MAGIC
    rec.writeUInt32BE(rec.length - HEADER, 1)
    rec.writeUInt32BE(crcOf(rec), 5)
    return rec
}

/** The framed record of a message. */
export function addRecord(m: StoredMessage): Buffer {
    const topic = encoder.encode(m.topic)
    const props = m.props ?? null
    const extra = props !== null ? 4 + props.length : 0
    const b = Buffer.allocUnsafe(HEADER + 8 + topic.length + extra + m.payload.length)
    b[HEADER] = ADD
    b.writeUInt32BE(m.seq, HEADER + 1)
    b[HEADER + 5] = m.qos | (m.retain ? 4 : 0) | (props !== null ? PROPS : 0)
    b.writeUInt16BE(topic.length, HEADER + 6)
    b.set(topic, HEADER + 8)
    let pos = HEADER + 8 + topic.length
    if (props !== null) {
        b.writeUInt32BE(props.length, pos)
        b.set(props, pos + 4)
        pos += 4 + props.length
    }
    b.set(m.payload, pos)
    return frame(b)
}

/* The flag of a record with properties */
const PROPS = 8

/* Where an add record's payload starts (after its topic and properties), or -1 when the lengths overrun it */
function payloadAt(b: Buffer, body: number, end: number): number {
    const topicEnd = body + 8 + b.readUInt16BE(body + 6)
    if (topicEnd > end) {
        return -1
    }
    if ((b[body + 5] & PROPS) === 0) {
        return topicEnd
    }
    if (topicEnd + 4 > end) {
        return -1
    }
    const start = topicEnd + 4 + b.readUInt32BE(topicEnd)
    return start > end ? -1 : start
}

/** The framed record of a deletion. */
export function deleteRecord(seq: number): Buffer {
    const b = Buffer.allocUnsafe(HEADER + 5)
    b[HEADER] = DELETE
    b.writeUInt32BE(seq, HEADER + 1)
    return frame(b)
}

/* The size of a valid record at pos, or 0 */
function validAt(b: Buffer, pos: number): number {
    if (b[pos] !== MAGIC || pos + HEADER > b.length) {
        return 0
    }
    const n = b.readUInt32BE(pos + 1)
    if (n < 5 || n > b.length - pos - HEADER) {
        return 0
    }
    const rec = b.subarray(pos, pos + HEADER + n)
    if (crcOf(rec) !== b.readUInt32BE(pos + 5)) {
        return 0
    }
    const op = b[pos + HEADER]
    if (op === DELETE) {
        return n === 5 ? HEADER + n : 0
    }
    const flags = b[pos + HEADER + 5]
    return op === ADD && n >= 8 && (flags & 3) !== 0 && (flags & ~(PROPS | 7)) === 0 && payloadAt(b, pos + HEADER, pos + HEADER + n) >= 0 ? HEADER + n : 0
}

/**
    Parse a store file: the live messages in publish order, and the stretches that held no valid record (each
    is skipped, and every good record after it is read).
    @example const { messages, damage } = scanStore(readFileSync('outbox.log'))
 */
export function scanStore(bytes: Uint8Array): { messages: StoredMessage[], damage: Damage[] } {
    const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)
    const live = new Map<number, StoredMessage>()
    const damage: Damage[] = []
    let pos = 0
    while (pos < b.length) {
        const size = validAt(b, pos)
        if (size === 0) {
            const start = pos++
            while (pos < b.length && validAt(b, pos) === 0) {
                pos++
            }
            damage.push({ offset: start, length: pos - start, tail: pos === b.length })
            continue
        }
        const body = pos + HEADER
        const seq = b.readUInt32BE(body + 1)
        if (b[body] === DELETE) {
            live.delete(seq)
        } else {
            const topicEnd = body + 8 + b.readUInt16BE(body + 6)
            const start = payloadAt(b, body, pos + size)
            live.set(seq, {
                seq, qos: b[body + 5] & 3, retain: (b[body + 5] & 4) !== 0,
                topic: decoder.decode(b.subarray(body + 8, topicEnd)),
                payload: new Uint8Array(b.subarray(start, pos + size)),
                props: start > topicEnd ? new Uint8Array(b.subarray(topicEnd + 4, start)) : null,
            })
        }
        pos += size
    }
    return { messages: [...live.values()].sort((x, y) => x.seq - y.seq), damage }
}

/**
    Parse a store file: the live messages in publish order (damaged stretches skipped).
    @example const unsent = readStore(readFileSync('outbox.log'))
 */
export function readStore(bytes: Uint8Array): StoredMessage[] {
    return scanStore(bytes).messages
}
