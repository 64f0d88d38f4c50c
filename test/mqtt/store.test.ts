import test, { type ExecutionContext } from 'ava'
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FileStore, readStore } from '../../mqtt/agent/index.js'
import { OutMsg } from '../../mqtt/client/state.js'
import { rSetLogHandler } from '../../runtime/index.js'
import { quietLogs } from '../helpers/quiet.js'

quietLogs(test)

const enc = new TextEncoder()

function msg(topic: string, text: string, qos = 1, retain = false): OutMsg {
    return new OutMsg(3, qos, retain, topic, null, enc.encode(text), null, 0)
}

const tick = () => new Promise(r => setTimeout(r, 0))

/** A store file in a fresh directory, removed when the test ends. */
function storePath(t: ExecutionContext): string {
    const dir = mkdtempSync(join(tmpdir(), 'fiber-mqtt-store-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    return join(dir, 'out.log')
}

test('messages added are restored after a reopen; removed ones are not', async t => {
    const path = storePath(t)
    const store = new FileStore(path)
    t.deepEqual(store.restored, [])
    const a = msg('t/a', 'one')
    const b = msg('t/b', 'two', 2, true)
    const c = msg('t/c', '')
    store.added(a)
    store.added(b)
    store.added(c)
    t.true(a.storeSeq > 0 && b.storeSeq > a.storeSeq)
    store.removed(a)
    store.removed(a)
    await tick()
    t.is(store.size, 2)
    /* Without close (as after a crash): the records are on disk already */
    const again = new FileStore(path)
    t.deepEqual(again.restored.map(m => [m.topic, new TextDecoder().decode(m.payload), m.qos, m.retain]), [['t/b', 'two', 2, true], ['t/c', '', 1, false]])
    /* Replaying keeps the old record: no new one is written */
    const before = statSync(path).size
    again.replaying = again.restored[0]
    const replayed = msg('t/b', 'two', 2, true)
    again.added(replayed)
    again.replaying = null
    t.is(replayed.storeSeq, again.restored[0].seq)
    t.is(statSync(path).size, before)
    again.removed(replayed)
    again.close()
    t.deepEqual(new FileStore(path).restored.map(m => m.topic), ['t/c'])
})

test('a record torn by a crash at the end of the file is ignored', t => {
    const path = storePath(t)
    const store = new FileStore(path)
    store.added(msg('keep', 'intact'))
    store.close()
    const whole = readFileSync(path)
    appendFileSync(path, whole.subarray(0, whole.length - 3))
    const lines: string[] = []
    const prior = rSetLogHandler((_type, _source, msg) => { lines.push(msg) })
    try {
        t.deepEqual(new FileStore(path).restored.map(m => m.topic), ['keep'])
    } finally {
        rSetLogHandler(prior)
    }
    t.true(lines.some(l => l.includes(`torn record of ${whole.length - 3} bytes at offset ${whole.length}`)), lines.join('\n'))
    writeFileSync(path, Buffer.from([0x58, 1, 2]))
    t.deepEqual(readStore(readFileSync(path)), [])
})

test('the file is compacted when dead records dominate', async t => {
    const path = storePath(t)
    const store = new FileStore(path)
    const big = 'x'.repeat(2000)
    for (let i = 0; i < 700; i++) {
        const m = msg(`t/${i}`, big)
        store.added(m)
        store.removed(m)
        if (i % 100 === 0) {
            await tick()
        }
    }
    store.added(msg('t/last', 'kept'))
    await tick()
    t.true(statSync(path).size < 1024 * 1024, `${statSync(path).size} bytes after compaction`)
    t.deepEqual(new FileStore(path).restored.map(m => m.topic), ['t/last'])
    store.close()
})
