/*
    `fiber-mqtt bench` end to end: real brokers (mosquitto, aedes) on loopback, the command run as users run
    it (child processes, workers forked by it), coordinated runs of several processes. Small counts: figures
    come from the benchmark, these check that what is counted is what happened.
 */
import test from 'ava'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort, startAedes, startMosquitto, type Broker } from '../../brokers/broker.js'
import { rAwait, type Fiber } from '../../runtime/index.js'
import { rCloseSocket } from '../../socket/index.js'
import { writeStamp } from '../../bin/bench/stamp.js'
import { scripted, type Peer } from '../helpers/peer.js'
import { inFiber } from '../helpers/fiber.js'
import { ended } from '../helpers/child.js'
import { closeListenersAtEnd } from '../helpers/net.js'

closeListenersAtEnd(test)

const cli = fileURLToPath(new URL('../../bin/fiber-mqtt.js', import.meta.url))

interface Proc {
    out: () => string
    err: () => string
    kill: (signal: NodeJS.Signals) => void
    done: Promise<number | null>
}

function start(args: string[], timeout = 40_000): Proc {
    const child = spawn(process.execPath, [cli, 'bench', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', d => { out += d })
    child.stderr.on('data', d => { err += d })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout)
    return {
        out: () => out, err: () => err, kill: s => child.kill(s),
        done: ended(child).then(code => { clearTimeout(timer); return code }),
    }
}

async function run(args: string[]): Promise<{ code: number | null, out: string, err: string, json: any }> {
    const p = start(args)
    const code = await p.done
    let json: any = null
    try {
        json = JSON.parse(p.out())
    } catch { /* not JSON: the test says what it got */ }
    return { code, out: p.out(), err: p.err(), json }
}

async function until(cond: () => boolean, ms = 20_000): Promise<boolean> {
    const deadline = Date.now() + ms
    while (!cond()) {
        if (Date.now() > deadline) return false
        await new Promise(r => setTimeout(r, 25))
    }
    return true
}

let dir: string
let mosquitto: Broker
let aedes: Broker
test.before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fiber-mqtt-loadgen-'))
    mosquitto = await startMosquitto({ extra: [`log_dest file ${join(dir, 'mosquitto.log')}`, 'log_type all', 'connection_messages true'] })
    aedes = await startAedes()
})
test.after.always(async () => {
    await mosquitto?.stop()
    await aedes?.stop()
    rmSync(dir, { recursive: true, force: true })
})

test('bench: usage and bad options exit 1 with the reason', async t => {
    const help = await run(['--help'])
    t.is(help.code, 0)
    t.regex(help.out, /Usage: fiber-mqtt bench conn\|pub\|sub/)
    const bad = await run(['pub', '-q', '7'])
    t.is(bad.code, 1)
    t.regex(bad.err, /Error: -q must be an integer from 0 to 2 \(got '7'\)/)
    const mode = await run(['flood'])
    t.is(mode.code, 1)
    t.regex(mode.err, /Unknown bench mode 'flood'/)
})

for (const kind of ['mosquitto', 'aedes'] as const) {
    test.serial(`bench conn (${kind}): connections opened at the rate asked, held, counted, spread over workers`, async t => {
        const b = kind === 'mosquitto' ? mosquitto : aedes
        const r = await run(['conn', '-p', String(b.port), '-h', '127.0.0.1', '-c', '12', '-i', '20', '-d', '2', '-w', '2', '-k', '30', '--json'])
        t.is(r.code, 0, r.err)
        t.like(r.json, { mode: 'conn', clients: 12, connects: 12, failures: 0, peakConnected: 12, connected: 0, workers: 2 })
        t.is(r.json.connectLatencyUs.count, 12)
        t.true(r.json.connectLatencyUs.p50 > 0 && r.json.connectLatencyUs.max >= r.json.connectLatencyUs.p99)
        t.deepEqual(r.json.errors, {})
        /* Plain progress lines on a pipe, one a second */
        t.regex(r.err, /^\[ {3}1s\] conn \d+\/12 \+\d+\/s/m)
    })

    test.serial(`bench pub and sub (${kind}): every message counted once, in sequence, with its latency`, async t => {
        const b = kind === 'mosquitto' ? mosquitto : aedes
        const topic = `lg/${kind}/%i`
        const sub = start(['sub', '-p', String(b.port), '-h', '127.0.0.1', '-c', '2', '-q', '1', '-t', `lg/${kind}/#`, '-L', '2400', '-d', '30', '-w', '1', '--json'])
        t.true(await until(() => /conn 2\/2/.test(sub.err())), sub.err())
        const pub = await run(['pub', '-p', String(b.port), '-h', '127.0.0.1', '-c', '4', '-i', '1', '-I', '2', '-q', '1', '-s', '64',
            '-t', topic, '-L', '1200', '-w', '2', '--json'])
        t.is(pub.code, 0, pub.err)
        t.like(pub.json, { mode: 'pub', sent: 1200, acked: 1200, connects: 4, failures: 0 })
        t.is(await sub.done, 0, sub.err())
        const s = JSON.parse(sub.out())
        /* Two subscribers each get all 1,200 */
        t.like(s, { received: 2400, duplicates: 0, gaps: 0 })
        t.is(s.latencyUs.count, 2400)
        t.true(s.latencyUs.p50 > 0 && s.latencyUs.p999 <= s.latencyUs.max)
    })
}

test.serial('bench pub QoS 2 with retain through mosquitto; a new subscriber counts each retained last message once', async t => {
    const port = mosquitto.port
    const pub = await run(['pub', '-p', String(port), '-h', '127.0.0.1', '-c', '3', '-i', '0', '-I', '0', '-q', '2', '-r',
        '-t', 'lg/q2/%c', '-L', '300', '-w', '1', '-F', '5', '--json'])
    t.is(pub.code, 0, pub.err)
    t.like(pub.json, { sent: 300, acked: 300, qos: 2 })
    /* The retained last message of each publisher is there for a new subscriber: stamped, so counted once */
    const sub = await run(['sub', '-p', String(port), '-h', '127.0.0.1', '-c', '1', '-q', '2', '-t', 'lg/q2/#', '-L', '3', '-d', '20', '--json'])
    t.is(sub.code, 0, sub.err)
    t.like(sub.json, { received: 3, duplicates: 0, gaps: 0 })
})

test.serial('bench: failures by reason, and more local addresses than one (--ifaddr)', async t => {
    const closed = await freePort()
    const r = await run(['conn', '-p', String(closed), '-h', '127.0.0.1', '-c', '3', '-i', '0', '-d', '1', '-w', '1', '--json'])
    t.is(r.code, 0, r.err)
    t.like(r.json, { connects: 0, failures: 3, errors: { 'connection refused': 3 } })
    const bound = await run(['conn', '-p', String(mosquitto.port), '-h', '127.0.0.1', '-c', '4', '-i', '0', '-d', '1', '-w', '1',
        '--ifaddr', '127.0.0.2,127.0.0.3', '--prefix', 'ifa', '--json'])
    t.is(bound.code, 0, bound.err)
    t.like(bound.json, { connects: 4, failures: 0 })
    t.true(await until(() => /New client connected from 127\.0\.0\.3:\d+ as ifa_conn_3/.test(readFileSync(join(dir, 'mosquitto.log'), 'utf8'))))
    const log = readFileSync(join(dir, 'mosquitto.log'), 'utf8')
    t.regex(log, /New client connected from 127\.0\.0\.2:\d+ as ifa_conn_0/)
    t.regex(log, /New client connected from 127\.0\.0\.2:\d+ as ifa_conn_2/)
    t.regex(log, /New client connected from 127\.0\.0\.3:\d+ as ifa_conn_1/)
})

test.serial('bench: Ctrl-C stops a run of workers, closes every connection and prints the summary; --csv and --chart', async t => {
    const csv = join(dir, 'series.csv')
    const chart = join(dir, 'series.svg')
    const p = start(['conn', '-p', String(mosquitto.port), '-h', '127.0.0.1', '-c', '6', '-i', '0', '-w', '2', '--csv', csv, '--chart', chart])
    t.true(await until(() => /conn 6\/6/.test(p.err())), p.err())
    p.kill('SIGINT')
    t.is(await p.done, 0, p.err())
    t.regex(p.err(), /Stopping/)
    t.regex(p.out(), /connections: 6 made .* 0 failed, peak 6 open/)
    const rows = readFileSync(csv, 'utf8').trim().split('\n')
    t.regex(rows[0], /^second,connected,connects/)
    t.true(rows.length >= 2)
    t.is(rows.slice(1).reduce((n, row) => n + Number(row.split(',')[2]), 0), 6)
    t.regex(readFileSync(chart, 'utf8'), /^<svg[\s\S]*<polyline[\s\S]*<\/svg>\n$/)
})

test.serial('bench --coordinate: processes join through the broker, share the clients and one summary counts them all', async t => {
    const run1 = `t${process.pid}`
    const joiners = [0, 1].map(() => start(['join', '-h', '127.0.0.1', '-p', String(mosquitto.port), '--run', run1, '-w', '1', '--json']))
    const lead = start(['pub', '-h', '127.0.0.1', '-p', String(mosquitto.port), '-c', '9', '-i', '5', '-I', '0', '-q', '1', '-L', '900',
        '-t', 'lg/co/%i', '--coordinate', '--members', '2', '--run', run1, '-w', '2', '--json'])
    t.is(await lead.done, 0, lead.err())
    const s = JSON.parse(lead.out())
    t.like(s, { clients: 9, connects: 9, sent: 900, acked: 900, members: 3, failures: 0 })
    t.deepEqual(s.errors, {})
    const parts = await Promise.all(joiners.map(async j => {
        t.is(await j.done, 0, j.err())
        return JSON.parse(j.out())
    }))
    t.deepEqual(parts.map(p => p.clients), [3, 3])
    t.deepEqual(parts.map(p => p.sent), [300, 300])
    t.regex(lead.err(), /member 2 of 2 joined/)
})

test.serial('bench --coordinate sub, coordinated through another broker (--control): the subscribers\' limit over all members stops every member', async t => {
    const run2 = `s${process.pid}`
    const control = `mqtt://127.0.0.1:${aedes.port}`
    const joiner = start(['join', '-h', '127.0.0.1', '-p', String(mosquitto.port), '--control', control, '--run', run2, '-w', '1'])
    const lead = start(['sub', '-h', '127.0.0.1', '-p', String(mosquitto.port), '-c', '2', '-q', '1', '-t', 'lg/cs/#', '-L', '400',
        '--coordinate', '--members', '1', '--run', run2, '--control', control, '-w', '1', '--json'])
    t.true(await until(() => /conn 1\/1/.test(joiner.err()) && /conn 2\/2/.test(lead.err())), lead.err() + joiner.err())
    const pub = await run(['pub', '-h', '127.0.0.1', '-p', String(mosquitto.port), '-c', '2', '-I', '5', '-q', '1', '-t', 'lg/cs/%i', '-L', '200', '-w', '1', '--json'])
    t.is(pub.code, 0, pub.err)
    t.is(await lead.done, 0, lead.err())
    t.is(await joiner.done, 0, joiner.err())
    const s = JSON.parse(lead.out())
    t.like(s, { received: 400, duplicates: 0, gaps: 0, members: 2 })
})

test.serial('bench sub against a lying broker: repeats, holes and foreign payloads are counted as what they are', async t => {
    const stamped = (origin: number, client: number, seq: number) => {
        const payload = new Uint8Array(40)
        writeStamp(new DataView(payload.buffer), origin, client, seq)
        return payload
    }
    await inFiber(function* () {
        const { port, listener } = yield* scripted(function* (peer: Peer): Fiber<void> {
            yield* peer.accept()
            const sub = yield* peer.expect(8)
            yield* peer.send({ type: 9, id: (sub as { id: number }).id, granted: [0] })
            const payloads = [stamped(7, 1, 0), stamped(7, 1, 1), stamped(7, 1, 1), stamped(7, 1, 4), stamped(7, 1, 5),
                stamped(8, 1, 0), new TextEncoder().encode('not a stamp')]
            for (const payload of payloads) {
                yield* peer.send({ type: 3, dup: false, qos: 0, retain: false, topic: 'lie/1', id: 0, payload })
            }
            yield* peer.next(20_000)
        })
        const p = start(['sub', '-h', '127.0.0.1', '-p', String(port), '-c', '1', '-t', 'lie/#', '-L', '7', '-d', '20', '-w', '1', '--json'])
        const code = yield* rAwait(p.done)
        rCloseSocket(listener)
        t.is(code, 0, p.err())
        const s = JSON.parse(p.out())
        t.like(s, { received: 7, duplicates: 1, gaps: 2 })
        t.is(s.latencyUs.count, 6)
    })
})

test.serial('bench over TLS and with credentials (URL or options); a refusal is counted by its reason', async t => {
    const fixtures = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url))
    const secure = await startMosquitto({
        users: { bench: 's3cret' },
        tls: { ca: join(fixtures, 'ca.crt'), cert: join(fixtures, 'server.crt'), key: join(fixtures, 'server.key') },
    })
    try {
        const tls = await run(['conn', '-h', 'localhost', '-p', String(secure.tlsPort), '-S', '--cafile', join(fixtures, 'ca.crt'),
            '-c', '3', '-i', '0', '-d', '1', '-w', '1', '--json'])
        t.is(tls.code, 0, tls.err)
        t.like(tls.json, { tls: true, connects: 3, failures: 0 })
        const url = await run(['conn', '--url', `mqtt://bench:s3cret@127.0.0.1:${secure.port}`, '-c', '2', '-i', '0', '-d', '1', '-w', '1', '--json'])
        t.like(url.json, { connects: 2, failures: 0 })
        const wrong = await run(['conn', '-h', '127.0.0.1', '-p', String(secure.port), '-u', 'bench', '-P', 'nope', '-c', '2', '-i', '0', '-d', '1', '-w', '1', '--json'])
        t.like(wrong.json, { connects: 0, failures: 2 })
        t.regex(Object.keys(wrong.json.errors).join(), /refused: (not authorised|bad user name or password)/)
        const untrusted = await run(['conn', '-h', 'localhost', '-p', String(secure.tlsPort), '-S', '-c', '1', '-i', '0', '-d', '1', '-w', '1', '--json'])
        t.like(untrusted.json, { connects: 0, failures: 1 })
        t.regex(Object.keys(untrusted.json.errors).join(), /^TLS: /)
    } finally {
        await secure.stop()
    }
})

test.serial('bench on a terminal: one progress line, rewritten in place', async t => {
    const script = ['/usr/bin/script', '/bin/script'].find(p => { try { readFileSync(p); return true } catch { return false } })
    if (script === undefined) {
        t.pass('no script(1) to give the command a terminal')
        return
    }
    const command = [process.execPath, cli, 'bench', 'conn', '-h', '127.0.0.1', '-p', String(mosquitto.port), '-c', '2', '-i', '0', '-d', '2', '-w', '1']
    const child = spawn(script, ['-qec', command.map(a => `'${a}'`).join(' '), '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', d => { out += d })
    const code = await ended(child)
    t.is(code, 0, out)
    t.regex(out, /\r\x1b\[K\[ {3}1s\] conn 2\/2/)
    t.regex(out, /\r\x1b\[K\[ {3}2s\] conn/)
    t.notRegex(out, /\[ {3}1s\][^\r]*\n\[ {3}2s\]/, 'seconds share one line')
})

test.serial('bench: a worker killed mid-run is reported by name; the others\' figures still make the summary', async t => {
    const child = spawn(process.execPath, [cli, 'bench', 'conn', '-h', '127.0.0.1', '-p', String(mosquitto.port), '-c', '4', '-i', '0', '-w', '2', '--json'],
        { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = '', err = ''
    child.stdout.on('data', d => { out += d })
    child.stderr.on('data', d => { err += d })
    const done = ended(child)
    t.true(await until(() => /conn 4\/4/.test(err)), err)
    const workers = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).map(Number)
    t.is(workers.length, 2)
    process.kill(workers[0], 'SIGKILL')
    t.true(await until(() => /conn 2\/4/.test(err)), err)
    child.kill('SIGINT')
    t.is(await done, 0, err)
    const s = JSON.parse(out)
    t.is(s.connects, 4)
    t.regex(Object.keys(s.errors).join(), /worker \d ended early \(SIGKILL\)/)
})
