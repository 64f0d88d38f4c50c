import test from 'ava'
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FileStore, StoreError, scanStore, type StoredMessage } from '../../mqtt/agent/index.js'
import { addRecord, crc32c, deleteRecord } from '../../mqtt/agent/store-format.js'
import { R_ERR_CANT_OPEN, rSetLogHandler } from '../../runtime/index.js'
import { encodeProperties } from '../../mqtt/codec/encode5.js'
import { readProperties } from '../../mqtt/codec/properties.js'
import { quietLogs } from '../helpers/quiet.js'

quietLogs(test)

const enc = new TextEncoder()

/* Every other message carries MQTT 5 properties (the wire form, as the client keeps them) */
function message(seq: number): StoredMessage {
    const props = seq % 2 === 0 ? encodeProperties({ contentType: 'text/plain', userProperties: [['n', String(seq)]], messageExpiryInterval: seq }, 'PUBLISH') : null
    return { seq, qos: 1 + (seq % 2), retain: seq % 3 === 0, topic: `t/${seq}`, payload: enc.encode(`payload ${seq}`), props }
}

/** A store file: 12 messages, every third one deleted; each record with the message it adds or deletes. */
function sample(): { bytes: Buffer, records: { start: number, end: number, seq: number, del: boolean }[], live: number[] } {
    const parts: Buffer[] = []
    const records: { start: number, end: number, seq: number, del: boolean }[] = []
    let at = 0
    const push = (b: Buffer, seq: number, del: boolean) => {
        records.push({ start: at, end: at + b.length, seq, del })
        parts.push(b)
        at += b.length
    }
    for (let seq = 1; seq <= 12; seq++) {
        push(addRecord(message(seq)), seq, false)
        if (seq % 3 === 0) {
            push(deleteRecord(seq - 1), seq - 1, true)
        }
    }
    const live = [1, 3, 4, 6, 7, 9, 10, 12]
    return { bytes: Buffer.concat(parts), records, live }
}

const seqs = (b: Uint8Array) => scanStore(b).messages.map(m => m.seq)

test('CRC-32C matches the standard check value', t => {
    t.is(crc32c(enc.encode('123456789')), 0xe3069283)
})

test('records round-trip: topic, payload, QoS, retain, MQTT 5 properties, deletions', t => {
    const { bytes, live } = sample()
    const { messages, damage } = scanStore(bytes)
    t.deepEqual(damage, [])
    t.deepEqual(messages.map(m => m.seq), live)
    t.deepEqual(messages[1], message(3))
    t.deepEqual(messages[2], message(4))
    t.deepEqual(readProperties(messages[2].props!, 0, messages[2].props!.length, 'PUBLISH')[0], { contentType: 'text/plain', userProperties: [['n', '4']], messageExpiryInterval: 4 })
})

test('a record written before properties existed (flags without 0x08) reads as it did; lengths that overrun are damage', t => {
    const old = addRecord({ seq: 1, qos: 1, retain: false, topic: 'a', payload: enc.encode('x') })
    t.deepEqual(scanStore(old).messages, [{ seq: 1, qos: 1, retain: false, topic: 'a', payload: enc.encode('x'), props: null }])
    /* A properties length past the record's end, checksum made valid: not a message */
    const rec = addRecord({ seq: 2, qos: 1, retain: false, topic: 'a', payload: enc.encode('x'), props: Uint8Array.of(0) })
    rec.writeUInt32BE(99, 9 + 8 + 1)
    rec.writeUInt32BE(crc32c(Buffer.concat([rec.subarray(1, 5), rec.subarray(9)])), 5)
    t.deepEqual(scanStore(rec).messages, [])
    t.is(scanStore(rec).damage.length, 1)
})

test('one flipped bit anywhere costs at most the record it is in: every record after it is recovered', t => {
    const { bytes, records, live } = sample()
    for (let offset = 0; offset < bytes.length; offset++) {
        for (const bit of [0x01, 0x80]) {
            const damaged = Buffer.from(bytes)
            damaged[offset] ^= bit
            const hit = records.find(r => offset >= r.start && offset < r.end)!
            /* A damaged message is lost; a damaged deletion brings its message back (sent again: at least once) */
            const expected = hit.del ? [...live, hit.seq].sort((a, b) => a - b) : live.filter(s => s !== hit.seq)
            const scan = scanStore(damaged)
            t.deepEqual(scan.messages.map(m => m.seq), expected, `bit ${bit} of byte ${offset}`)
            t.true(scan.damage.length >= 1 && scan.damage[0].offset === hit.start, `damage reported at ${hit.start} for byte ${offset}`)
        }
    }
})

test('truncation at every offset: every whole record before the cut is read, the torn tail is reported', t => {
    const { bytes, records } = sample()
    for (let cut = 0; cut <= bytes.length; cut++) {
        const whole = records.filter(r => r.end <= cut)
        const live = new Set<number>()
        for (const r of whole) {
            if (r.del) {
                live.delete(r.seq)
            } else {
                live.add(r.seq)
            }
        }
        const scan = scanStore(bytes.subarray(0, cut))
        t.deepEqual(scan.messages.map(m => m.seq), [...live].sort((a, b) => a - b), `cut at ${cut}`)
        const boundary = records.some(r => r.end === cut) || cut === 0
        t.deepEqual(scan.damage.map(d => d.tail), boundary ? [] : [true], `cut at ${cut}`)
    }
})

test('a torn write followed by good records: the good records are recovered, not a garbage message', t => {
    const { bytes, records, live } = sample()
    const torn = addRecord(message(99)).subarray(0, 11)
    for (let at = 0; at <= bytes.length; at++) {
        const file = Buffer.concat([bytes.subarray(0, at), torn, bytes.subarray(at)])
        const got = seqs(file)
        t.false(got.includes(99), `at ${at}`)
        /* Between records it costs nothing; inside a record, that record alone */
        if (at === 0 || records.some(r => r.end === at)) {
            t.deepEqual(got, live, `at ${at}`)
        } else {
            t.true(live.filter(s => !got.includes(s)).length <= 1 && got.every(s => live.includes(s) || records.some(r => r.del && r.seq === s)), `at ${at}: ${got}`)
        }
    }
})

function dir(t: { teardown(fn: () => void): void }): string {
    const d = mkdtempSync(join(tmpdir(), 'fiber-mqtt-store-'))
    t.teardown(() => rmSync(d, { recursive: true, force: true }))
    return d
}

test('opening a damaged store logs each damaged stretch with its offset, keeps a copy, and recovers the rest', t => {
    const path = join(dir(t), 'out.log')
    const { bytes, records, live } = sample()
    const damaged = Buffer.from(bytes)
    const victim = records.find(r => !r.del && r.seq === 4)!
    damaged[victim.start + 12] ^= 0x10
    writeFileSync(path, damaged)
    const lines: string[] = []
    const prior = rSetLogHandler((type, source, msg) => { lines.push(`${type} ${source} ${msg}`) })
    let store: FileStore
    try {
        store = new FileStore(path)
    } finally {
        rSetLogHandler(prior)
    }
    t.deepEqual(store.restored.map(m => m.seq), live.filter(s => s !== 4))
    t.is(store.damage.length, 1)
    t.true(lines.some(l => l.includes(`damaged data of ${victim.end - victim.start} bytes at offset ${victim.start}`)), lines.join('\n'))
    t.deepEqual(readFileSync(`${path}.damaged`), damaged)
    store.close()
    /* Compacted: the new file is whole */
    t.deepEqual(scanStore(readFileSync(path)).damage, [])
    t.deepEqual(seqs(readFileSync(path)), live.filter(s => s !== 4))
})

test('a store path that cannot be used fails with StoreError naming the path and the cause', t => {
    const d = dir(t)
    const sub = join(d, 'a-directory')
    mkdirSync(sub)
    const err = t.throws(() => new FileStore(sub), { instanceOf: StoreError })
    t.is(err?.code, R_ERR_CANT_OPEN)
    t.true(err!.message.includes(sub) && err!.message.includes('directory'), err!.message)
    const missing = join(d, 'no', 'such', 'dir', 'out.log')
    const err2 = t.throws(() => new FileStore(missing), { instanceOf: StoreError })
    t.true(err2!.message.includes(missing) && err2!.message.includes('ENOENT'), err2!.message)
    t.false(existsSync(`${missing}.tmp`))
})
