/*
    The durable outbound store: QoS 1/2 messages published while offline or not yet acknowledged survive a
    process restart. An append-only file of framed, checksummed records (store-format.ts), each written before
    the publish call returns. On open, a damaged stretch is skipped, logged with its offset and counted, and
    every good record after it is recovered (the damaged file is kept beside the store as `<path>.damaged`);
    a record torn by a crash at the end is dropped. The live records are then compacted: written to a new file,
    flushed and renamed over the old one, so a crash while compacting leaves the old file whole. Compaction runs
    again when dead records dominate.

    A write that fails or is cut short (disk full, file-size limit, I/O error) is undone (the file is truncated
    back to its last whole record) and fails the publish with R_ERR_CANT_WRITE, naming the path and the cause:
    nothing is reported stored that is not. With `fsync`, every record is flushed to the disk before the
    publish returns (survives a power cut); without, records are in the OS's cache (survive a crash of the
    process, not of the machine).
 */
import { closeSync, copyFileSync, existsSync, fsyncSync, ftruncateSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs'
import { R_ERR_CANT_OPEN, R_ERR_CANT_WRITE } from '../../runtime/errors.js'
import { rError, rInfo } from '../../runtime/log.js'
import { copyBytes } from '../codec/bytes.js'
import type { OutMsg } from '../client/state.js'
import type { Outbox } from '../client/config.js'
import { addRecord, deleteRecord, scanStore, type Damage, type StoredMessage } from './store-format.js'

export { readStore, scanStore, type Damage, type StoredMessage } from './store-format.js'

const COMPACT_BYTES = 1024 * 1024

/**
    A store that cannot be opened: `code` is R_ERR_CANT_OPEN, the message names the path and the cause.
    @example try { new FileStore(path) } catch (e) { if (e instanceof StoreError) rError('app', '%s', e.message) }
 */
export class StoreError extends Error {
    override name = 'StoreError'

    constructor(readonly code: number, message: string) {
        super(message)
    }
}

function cause(err: unknown): string {
    return err instanceof Error ? err.message : String(err)
}

/**
    The durable outbound store: an append-only file of QoS 1/2 messages, compacted on open and as dead records grow.
    Throws StoreError when the file cannot be read or written.
    @example const store = new FileStore('/var/lib/dev-1/outbox.log'); for (const m of store.restored) resend(m)
 */
export class FileStore implements Outbox {
    private fd = -1
    private seq = 0
    private live = new Map<number, StoredMessage>()
    private fileBytes = 0
    private deletes: Buffer[] = []
    private flushQueued = false
    /** Stretches of the file found damaged when it was opened (torn tails included) */
    readonly damage: Damage[] = []
    /** The last write error ("" when none) */
    lastError = ''
    /** Set while restored messages are published again: they keep their records */
    replaying: StoredMessage | null = null

    /** Open (creating) the store; the messages it held are in `restored`, oldest first. */
    constructor(readonly path: string, private readonly fsync = false) {
        let restored: StoredMessage[] = []
        try {
            if (existsSync(path)) {
                if (statSync(path).isDirectory()) {
                    throw new Error('it is a directory')
                }
                const scan = scanStore(readFileSync(path))
                restored = scan.messages
                this.damage = scan.damage
            }
        } catch (err) {
            throw new StoreError(R_ERR_CANT_OPEN, `Cannot read the outbound store ${path}: ${cause(err)}`)
        }
        for (const d of this.damage) {
            rError('mqtt', 'Outbound store %s: %s of %d bytes at offset %d skipped', path, d.tail ? 'torn record' : 'damaged data', d.length, d.offset)
        }
        if (this.damage.some(d => !d.tail)) {
            this.keepDamaged()
        }
        for (const m of restored) {
            this.live.set(m.seq, m)
            this.seq = Math.max(this.seq, m.seq)
        }
        try {
            this.compact()
        } catch (err) {
            /* A full disk at start: keep the file as it is and append to it (framing finds any torn tail later) */
            try {
                this.fd = openSync(path, 'a')
                this.fileBytes = statSync(path).size
                rError('mqtt', 'Cannot compact the outbound store %s: %s (appending to it as it is)', path, cause(err))
            } catch {
                throw new StoreError(R_ERR_CANT_OPEN, `Cannot write the outbound store ${path}: ${cause(err)}`)
            }
        }
    }

    /** The messages that were waiting when the store was opened, oldest first. */
    get restored(): StoredMessage[] {
        return [...this.live.values()]
    }

    get size(): number {
        return this.live.size
    }

    /** Store a message before it is sent: 0, or R_ERR_CANT_WRITE (the message is not stored; lastError says why). */
    added(msg: OutMsg): number {
        if (this.replaying !== null) {
            msg.storeSeq = this.replaying.seq
            return 0
        }
        const m: StoredMessage = { seq: this.seq + 1, qos: msg.qos, retain: msg.retain, topic: msg.topic, payload: msg.payload!, props: msg.props }
        if (!this.write(addRecord(m))) {
            return R_ERR_CANT_WRITE
        }
        this.seq = m.seq
        msg.storeSeq = m.seq
        this.live.set(m.seq, { ...m, payload: copyBytes(m.payload), props: m.props ? copyBytes(m.props) : null })
        return 0
    }

    /** The message is done (acknowledged or dropped): its deletion is written with the next batch. */
    removed(msg: OutMsg): void {
        if (!this.live.delete(msg.storeSeq)) {
            return
        }
        /* Deletions are batched: a lost one only means a resend after a crash */
        this.deletes.push(deleteRecord(msg.storeSeq))
        msg.storeSeq = 0
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
            if (!this.write(Buffer.concat(this.deletes))) {
                rError('mqtt', '%s: those messages may be sent again after a restart', this.lastError)
            }
            this.deletes = []
        }
        if (this.fileBytes > COMPACT_BYTES && this.live.size * 4 < this.fileBytes / 64) {
            try {
                this.compact()
            } catch (err) {
                rError('mqtt', 'Cannot compact the outbound store %s: %s (it goes on growing)', this.path, cause(err))
            }
        }
    }

    /* Append whole records, or nothing: a failed or short write is truncated away and reported */
    private write(b: Buffer): boolean {
        if (this.fd < 0) {
            this.lastError = `The outbound store ${this.path} is closed`
            return false
        }
        let done = 0
        try {
            while (done < b.length) {
                const n = writeSync(this.fd, b, done, b.length - done)
                if (n <= 0) {
                    throw new Error('nothing written')
                }
                done += n
            }
            if (this.fsync) {
                fsyncSync(this.fd)
            }
        } catch (err) {
            this.lastError = `Cannot write the outbound store ${this.path}: ${cause(err)}${done > 0 ? ` (after ${done} of ${b.length} bytes)` : ''}`
            if (done > 0) {
                try {
                    ftruncateSync(this.fd, this.fileBytes)
                } catch {
                    /* the checksum finds the torn record when the store is next opened */
                }
            }
            return false
        }
        this.fileBytes += b.length
        return true
    }

    /* Keep the damaged file for inspection before compaction replaces it */
    private keepDamaged(): void {
        try {
            copyFileSync(this.path, `${this.path}.damaged`)
            rInfo('mqtt', 'The damaged outbound store is kept as %s.damaged', this.path)
        } catch (err) {
            rError('mqtt', 'Cannot keep a copy of the damaged store %s: %s', this.path, cause(err))
        }
    }

    /* Rewrite the live records into a new file, flush it and rename it into place */
    private compact(): void {
        const tmp = `${this.path}.tmp`
        const parts = [...this.live.values()].map(addRecord)
        const fd = openSync(tmp, 'w')
        try {
            for (const p of parts) {
                let off = 0
                while (off < p.length) {
                    off += writeSync(fd, p, off, p.length - off)
                }
            }
            fsyncSync(fd)
        } finally {
            closeSync(fd)
        }
        renameSync(tmp, this.path)
        if (this.fd >= 0) {
            closeSync(this.fd)
        }
        this.fd = openSync(this.path, 'a')
        this.fileBytes = parts.reduce((n, p) => n + p.length, 0)
    }
}
