import test from 'ava'
import { InflightTable } from '../../mqtt/client/inflight.js'
import { OUT_PUBLISH, OutMsg } from '../../mqtt/client/outmsg.js'
import { Rng } from './random.js'

function msg(id: number): OutMsg {
    const m = new OutMsg(OUT_PUBLISH, 1, false, `t/${id}`, null, null, null, 0)
    m.id = id
    return m
}

function track(t: InflightTable, id: number): OutMsg {
    const m = msg(id)
    t.set(id, m)
    return m
}

const ids = (t: InflightTable) => [...t.values()].map(m => m.id)

/* An id in flight, picked at random, replaced by a message of its own in its place: in the table and its model */
function replaceOne(table: InflightTable, model: Map<number, unknown>, r: Rng): void {
    const id = r.pick([...model.keys()])
    const m = msg(id)
    table.set(id, m)
    model.set(id, m)
}

function clearBoth(table: InflightTable, model: Map<number, unknown>): void {
    table.clear()
    model.clear()
}

test('InflightTable: get, has and delete by id; the send order kept through growth and wrapped ids', t => {
    const table = new InflightTable()
    t.is(table.get(1), undefined)
    t.false(table.delete(1))
    /* Ids in sequence, wrapping from 65535 to 1, with an old one left in flight: the table grows round them */
    const stuck = track(table, 30000)
    const sent: number[] = [30000]
    for (let i = 0; i < 3000; i++) {
        const id = ((65000 + i - 1) % 65535) + 1
        track(table, id)
        sent.push(id)
        if (i >= 500) {
            /* Acknowledged in order, 500 behind */
            const done = sent[i - 500 + 1]
            t.true(table.delete(done))
        }
    }
    t.is(table.size, 501)
    t.is(table.get(30000), stuck)
    t.true(table.has(30000))
    t.deepEqual(ids(table), [30000, ...sent.slice(2501)])
    for (const id of sent.slice(2501)) {
        t.is(table.get(id)!.id, id)
    }
    t.is(table.get(65000), undefined, 'deleted long ago')
    t.deepEqual([...table].map(([id, m]) => [id, m.id]), ids(table).map(id => [id, id]))
})

test('InflightTable: deleting the message a loop stands on (and ones after it) goes on in order', t => {
    const table = new InflightTable()
    for (let id = 1; id <= 10; id++) track(table, id)
    const seen: number[] = []
    for (const m of table.values()) {
        seen.push(m.id)
        if (m.id % 2 === 0) table.delete(m.id)
        if (m.id === 3) table.delete(5)
    }
    t.deepEqual(seen, [1, 2, 3, 4, 6, 7, 8, 9, 10])
    t.deepEqual(ids(table), [1, 3, 7, 9])
    /* for..of over entries, as Map allows */
    for (const [id] of table) table.delete(id)
    t.is(table.size, 0)
    t.deepEqual(ids(table), [])
    track(table, 4)
    t.deepEqual(ids(table), [4])
})

test('InflightTable: set on an id in flight replaces it in its place; clear empties; the same message twice is one', t => {
    const table = new InflightTable()
    for (const id of [7, 8, 9]) track(table, id)
    const again = msg(8)
    table.set(8, again)
    t.is(table.get(8), again)
    t.deepEqual(ids(table), [7, 8, 9])
    t.is(table.size, 3)
    table.set(8, again)
    t.is(table.size, 3)
    table.clear()
    t.is(table.size, 0)
    t.is(table.get(7), undefined)
    t.deepEqual(ids(table), [])
    track(table, 9)
    t.deepEqual(ids(table), [9])
})

test('InflightTable: every id at once (65,535 in flight) fits; each found, in order', t => {
    const table = new InflightTable()
    for (let id = 1; id <= 65535; id++) track(table, id)
    t.is(table.size, 65535)
    let n = 0
    for (const m of table.values()) {
        t.is(m.id, ++n) || t.fail()
        if (m.id !== n) break
    }
    t.is(n, 65535)
    t.is(table.get(65535)!.id, 65535)
    t.is(table.get(1)!.id, 1)
})

test('InflightTable against a Map, over random runs: ids handed out in sequence as a client does, acknowledged out of order, replaced, cleared', t => {
    const r = new Rng(20261202)
    for (let run = 0; run < 40; run++) {
        const table = new InflightTable()
        /* A Map iterates in insertion order, and set on a key it holds keeps its place: what the table promises */
        const model = new Map<number, OutMsg>()
        let next = r.int(65535) + 1
        /* Up to a few thousand in flight in most runs, up to every id in some */
        const span = run % 10 === 9 ? 65535 : 1 + r.int(4000)
        for (let op = 0; op < 6000; op++) {
            const k = r.int(100)
            if (k < 55 && model.size < span) {
                /* The next free id, wrapping from 65535 to 1 and skipping ids in flight */
                while (model.has(next)) {
                    next = next === 65535 ? 1 : next + 1
                }
                const m = msg(next)
                table.set(next, m)
                model.set(next, m)
                next = next === 65535 ? 1 : next + 1
            } else if (k < 93 && model.size > 0) {
                /* Acknowledged: mostly the oldest, sometimes any, sometimes an id not in flight */
                const live = [...model.keys()]
                const id = k < 80 ? live[0] : k < 90 ? r.pick(live) : r.int(65536)
                t.is(table.delete(id), model.delete(id))
            } else if (k < 98 && model.size > 0) {
                /* The same id again (a QoS 2 message's PUBREL state): replaced in its place */
                replaceOne(table, model, r)
            } else if (k === 99) {
                clearBoth(table, model)
            }
            if (op % 500 === 0 || op === 5999) {
                t.is(table.size, model.size)
                t.deepEqual([...table].map(([id, m]) => [id, m]), [...model])
                for (let probe = 0; probe < 20; probe++) {
                    const id = r.int(65536)
                    t.is(table.get(id), model.get(id))
                }
            }
        }
        for (const [id, m] of model) {
            t.is(table.get(id), m)
        }
    }
})

/* A plain entry as the model keeps it: what its OutMsg must say once one is made of it */
interface PlainWant { qos: number, retain: boolean, topic: string, bytes: Uint8Array, start: number, end: number, size: number, sent: number, state: number }

test('InflightTable with plain entries against a Map, over random runs: columns until asked for, then the same message in the same place', t => {
    const r = new Rng(20261204)
    const topicBytes = new Uint8Array([0, 1, 116])
    const slab = new Uint8Array(64)
    for (let run = 0; run < 40; run++) {
        const table = new InflightTable()
        const model = new Map<number, OutMsg | PlainWant>()
        let next = r.int(65535) + 1
        const span = run % 10 === 9 ? 65535 : 1 + r.int(3000)
        /* Each entry as the model says it is; a plain one made into its message (and kept as that) */
        const same = (id: number) => {
            const want = model.get(id)
            const got = table.get(id)
            if (want === undefined || want instanceof OutMsg) {
                t.is(got, want)
                return
            }
            t.true(got instanceof OutMsg)
            t.deepEqual([got!.id, got!.type, got!.qos, got!.retain, got!.topic, got!.topicBytes, got!.bytes, got!.keptStart, got!.keptEnd, got!.size, got!.sent, got!.state, got!.payload, got!.wait],
                [id, OUT_PUBLISH, want.qos, want.retain, want.topic, topicBytes, want.bytes, want.start, want.end, want.size, want.sent, want.state, null, null])
            t.is(table.plain(id), -1)
            t.is(table.get(id), got)
            model.set(id, got!)
        }
        for (let op = 0; op < 6000; op++) {
            const k = r.int(100)
            if (k < 55 && model.size < span) {
                while (model.has(next)) {
                    next = next === 65535 ? 1 : next + 1
                }
                if (r.int(4) === 0) {
                    const m = msg(next)
                    table.set(next, m)
                    model.set(next, m)
                } else {
                    const start = r.int(32)
                    const want: PlainWant = { qos: 1 + r.int(2), retain: r.bool(), topic: `t/${next}`, bytes: slab, start, end: start + r.int(32), size: r.int(1000), sent: r.int(1e9) + 0.5, state: 2 }
                    table.setPlain(next, want.qos, want.retain, want.topic, topicBytes, want.bytes, want.start, want.end, want.size, want.sent, want.state)
                    model.set(next, want)
                }
                next = next === 65535 ? 1 : next + 1
            } else if (k < 85 && model.size > 0) {
                const live = [...model.keys()]
                const id = k < 75 ? live[0] : k < 83 ? r.pick(live) : r.int(65536)
                t.is(table.delete(id), model.delete(id))
            } else if (k < 90 && model.size > 0) {
                /* A plain QoS 2 entry's PUBREC: its state and time, in its place */
                const id = r.pick([...model.keys()])
                const want = model.get(id)!
                if (want instanceof OutMsg) {
                    t.is(table.plain(id), -1)
                } else {
                    t.is(table.plain(id), want.qos | (want.retain ? 4 : 0) | (want.state << 3))
                    want.state = 4
                    want.sent += 1
                    table.setPlainState(id, want.state, want.sent)
                }
            } else if (k < 95 && model.size > 0) {
                /* Asked for: made into its message */
                same(r.pick([...model.keys()]))
            } else if (k < 99 && model.size > 0) {
                /* Replaced by a message of its own, in its place */
                replaceOne(table, model, r)
            } else if (k === 99) {
                clearBoth(table, model)
            }
            if (op % 500 === 0 || op === 5999) {
                t.is(table.size, model.size)
                for (let probe = 0; probe < 20; probe++) {
                    const id = r.int(65536)
                    t.is(table.has(id), model.has(id))
                    if (!model.has(id)) {
                        t.is(table.get(id), undefined)
                        t.is(table.plain(id), -1)
                        t.true(Number.isNaN(table.sentAt(id)))
                    }
                }
                /* The order and the send times, read without making a message of a plain entry */
                t.deepEqual(table.order(), [...model.keys()])
                for (const [id, want] of model) {
                    t.is(table.sentAt(id), want.sent)
                    t.is(table.plain(id) >= 0, !(want instanceof OutMsg))
                }
                t.true(Number.isNaN(table.sentAt(0)))
                /* The order, every entry made into its message */
                const order = [...model.keys()]
                order.forEach(same)
                t.deepEqual([...table].map(([id, m]) => [id, m]), [...model])
            }
        }
    }
})

test('InflightTable: a loop over the messages gives a plain entry as its message, once, and skips one deleted or replaced meanwhile', t => {
    const table = new InflightTable()
    const slab = new Uint8Array(8)
    for (let id = 1; id <= 6; id++) {
        table.setPlain(id, 1, false, `t/${id}`, slab, slab, 0, 4, 2, id, 2)
    }
    const seen: number[] = []
    for (const m of table.values()) {
        seen.push(m.id)
        if (m.id === 2) {
            table.delete(3)
            table.set(4, msg(4))
        }
    }
    t.deepEqual(seen, [1, 2, 5, 6])
    t.deepEqual(ids(table), [1, 2, 4, 5, 6])
    t.is(table.plain(1), -1)
    t.is(table.get(1)!.topic, 't/1')
    t.is(table.get(0), undefined)
    t.false(table.has(0))
})
