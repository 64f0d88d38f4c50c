/*
    The durable outbound store: QoS 1/2 messages published while offline or not yet acknowledged survive a
    process restart. An append-only file of records, written before the publish call returns:
        'A' seq:u32 flags:u8 (qos | retain << 2) topicLength:u16 payloadLength:u32 topic payload
        'D' seq:u32
    A torn record at the end (the process died mid-write) is ignored. On open the live records are kept and the
    file is compacted (rewritten and renamed into place); it is compacted again when dead records dominate.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs'
import { rError } from '../../runtime/log.js'
import type { OutMsg, Outbox } from '../client/state.js'

export interface StoredMessage {
    seq: number
    qos: number
    retain: boolean
    topic: string
    payload: Uint8Array
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const COMPACT_BYTES = 1024 * 1024

function record(m: StoredMessage): Buffer {
    const topic = encoder.encode(m.topic)
    const b = Buffer.allocUnsafe(12 + topic.length + m.payload.length)
    b[0] = 0x41
    b.writeUInt32BE(m.seq, 1)
    b[5] = m.qos | (m.retain ? 4 : 0)
    b.writeUInt16BE(topic.length, 6)
    b.writeUInt32BE(m.payload.length, 8)
    b.set(topic, 12)
    b.set(m.payload, 12 + topic.length)
    return b
}

/**
    Parse a store file: the live messages in publish order (a torn tail is ignored).
    @example const unsent = readStore(readFileSync('outbox.log'))
 */
export function readStore(bytes: Uint8Array): StoredMessage[] {
    const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)
    const live = new Map<number, StoredMessage>()
    let pos = 0
    while (pos < b.length) {
        const op = b[pos]
        if (op === 0x44 && pos + 5 <= b.length) {
            live.delete(b.readUInt32BE(pos + 1))
            pos += 5
        } else if (op === 0x41 && pos + 12 <= b.length) {
            const topicLength = b.readUInt16BE(pos + 6)
            const payloadLength = b.readUInt32BE(pos + 8)
            const end = pos + 12 + topicLength + payloadLength
            if (end > b.length) {
                break
            }
            const seq = b.readUInt32BE(pos + 1)
            live.set(seq, {
                seq, qos: b[pos + 5] & 3, retain: (b[pos + 5] & 4) !== 0,
                topic: decoder.decode(b.subarray(pos + 12, pos + 12 + topicLength)),
                payload: new Uint8Array(b.subarray(pos + 12 + topicLength, end)),
            })
            pos = end
        } else {
            break
        }
    }
    return [...live.values()].sort((a, b2) => a.seq - b2.seq)
}

/**
    The durable outbound store: an append-only file of QoS 1/2 messages, compacted on open and as dead records grow.
    @example const store = new FileStore('/var/lib/dev-1/outbox.log'); for (const m of store.restored) resend(m)
 */
export class FileStore implements Outbox {
    private fd: number
    private seq = 0
    private live = new Map<number, StoredMessage>()
    private fileBytes = 0
    private deletes: Buffer[] = []
    private flushQueued = false
    /** Set while restored messages are published again: they keep their records */
    replaying: StoredMessage | null = null

    /** Open (creating) the store; the messages it held are in `restored`, oldest first. */
    constructor(readonly path: string, private readonly fsync = false) {
        const restored = existsSync(path) ? readStore(readFileSync(path)) : []
        for (const m of restored) {
            this.live.set(m.seq, m)
            this.seq = Math.max(this.seq, m.seq)
        }
        this.fd = -1
        this.compact()
    }

    /** The messages that were waiting when the store was opened, oldest first. */
    get restored(): StoredMessage[] {
        return [...this.live.values()]
    }

    get size(): number {
        return this.live.size
    }

    added(msg: OutMsg): void {
        if (this.replaying !== null) {
            msg.storeSeq = this.replaying.seq
            return
        }
        const m: StoredMessage = { seq: ++this.seq, qos: msg.qos, retain: msg.retain, topic: msg.topic, payload: msg.payload! }
        msg.storeSeq = m.seq
        this.live.set(m.seq, { ...m, payload: m.payload.slice() })
        this.write(record(m))
    }

    removed(msg: OutMsg): void {
        if (!this.live.delete(msg.storeSeq)) {
            return
        }
        const d = Buffer.allocUnsafe(5)
        d[0] = 0x44
        d.writeUInt32BE(msg.storeSeq, 1)
        msg.storeSeq = 0
        /* Deletions are batched: a lost one only means a resend after a crash */
        this.deletes.push(d)
        if (!this.flushQueued) {
            this.flushQueued = true
            queueMicrotask(() => this.flushDeletes())
        }
    }

    close(): void {
        this.flushDeletes()
        if (this.fd >= 0) {
            closeSync(this.fd)
            this.fd = -1
        }
    }

    private flushDeletes(): void {
        this.flushQueued = false
        if (this.deletes.length > 0 && this.fd >= 0) {
            this.write(Buffer.concat(this.deletes))
            this.deletes = []
        }
        if (this.fileBytes > COMPACT_BYTES && this.live.size * 4 < this.fileBytes / 64) {
            this.compact()
        }
    }

    private write(b: Buffer): void {
        if (this.fd < 0) {
            return
        }
        try {
            writeSync(this.fd, b)
            if (this.fsync) {
                fsyncSync(this.fd)
            }
            this.fileBytes += b.length
        } catch (err) {
            rError('mqtt', 'Cannot write the outbound store %s: %s', this.path, (err as Error).message)
        }
    }

    /* Rewrite the live records into a new file and rename it into place */
    private compact(): void {
        const tmp = `${this.path}.tmp`
        const parts = [...this.live.values()].map(record)
        const fd = openSync(tmp, 'w')
        for (const p of parts) {
            writeSync(fd, p)
        }
        fsyncSync(fd)
        closeSync(fd)
        renameSync(tmp, this.path)
        if (this.fd >= 0) {
            closeSync(this.fd)
        }
        this.fd = openSync(this.path, 'a')
        this.fileBytes = parts.reduce((n, p) => n + p.length, 0)
    }
}
