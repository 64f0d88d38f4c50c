/*
    The durable store against a failing disk and a killed process, with real files and real child processes:
    a file-size limit (ulimit -f) stands in for a full disk; SIGKILL lands at random points.
 */
import test from 'ava'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { rAwait, R_ERR_CANT_WRITE, type Fiber } from '../../runtime/index.js'
import { mqttSubscribe, MQTT_WAIT_ACK, type MqttRecv } from '../../mqtt/index.js'
import { FileStore, scanStore } from '../../mqtt/agent/index.js'
import { startAedes, type Broker } from '../../brokers/broker.js'
import { inFiber } from '../helpers/fiber.js'
import { connectClient } from '../helpers/client.js'
import { until } from './suite.js'
import { quietLogs } from '../helpers/quiet.js'
import { ended } from '../helpers/child.js'
import { deadPort } from '../helpers/net.js'
import { rCloseSocket } from '../../socket/index.js'

quietLogs(test)

const filler = fileURLToPath(new URL('../helpers/store-filler.js', import.meta.url))
const publisher = fileURLToPath(new URL('../helpers/durable-publisher.js', import.meta.url))

/* A port where no broker answers, held for the test (a port found free and let go could become another test's broker) */
async function unreachable(t: { teardown(fn: () => void): void }): Promise<number> {
    const { listener, port } = await deadPort()
    t.teardown(() => rCloseSocket(listener))
    return port
}

/* Whole lines from a child's output, however its writes are split into chunks */
function linesOf(stream: NodeJS.ReadableStream, lines: string[]): void {
    let rest = ''
    stream.on('data', (d: Buffer) => {
        const parts = (rest + d.toString()).split('\n')
        rest = parts.pop()!
        lines.push(...parts.filter(Boolean))
    })
}

function tempDir(t: { teardown(fn: () => void): void }): string {
    const d = mkdtempSync(join(tmpdir(), 'fiber-mqtt-faults-'))
    t.teardown(() => rmSync(d, { recursive: true, force: true }))
    return d
}

/** Run a child to its end (bounded), with its stdout lines. */
function run(cmd: string, args: string[], ms = 20_000): Promise<{ lines: string[], code: number | null, stderr: string }> {
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
        let out = ''
        let err = ''
        child.stdout!.on('data', (d: Buffer) => { out += d.toString() })
        child.stderr!.on('data', (d: Buffer) => { err += d.toString() })
        const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${args.join(' ')} ran past ${ms} ms:\n${err}`)) }, ms)
        void ended(child).then(code => {
            clearTimeout(timer)
            resolve({ lines: out.split('\n').filter(Boolean), code, stderr: err })
        })
    })
}

test('a full disk (file-size limit): the publish that cannot be stored fails with R_ERR_CANT_WRITE naming the path; every one that succeeded is in the store', async t => {
    const path = join(tempDir(t), 'outbox.log')
    const dead = await unreachable(t)
    /* 48 KiB: a few dozen 1 KiB records fit, then a write is cut short and the next fails */
    const r = await run('bash', ['-c', `ulimit -f 48; exec "${process.execPath}" "${filler}" "${path}" ${dead} 1000`])
    t.is(r.code, 0, r.stderr)
    const ok = r.lines.filter(l => l.startsWith('ok ')).length
    const fail = r.lines.find(l => l.startsWith('fail '))
    t.true(ok > 10 && ok < 48, `${ok} stored`)
    t.truthy(fail, r.lines.slice(-3).join('\n'))
    const [, index, rc, ...text] = fail!.split(' ')
    t.is(Number(index), ok)
    t.is(Number(rc), R_ERR_CANT_WRITE)
    const message = text.join(' ')
    t.true(message.includes(path) && /EFBIG|file too large/i.test(message), message)
    /* Nothing torn is left behind, and exactly the stored messages come back */
    t.deepEqual(scanStore(readFileSync(path)).damage, [])
    const store = new FileStore(path)
    t.deepEqual(store.restored.map(m => Number(new TextDecoder().decode(m.payload).split(':')[0])), Array.from({ length: ok }, (_, i) => i))
    store.close()
})

test('a disk full from the start: the agent still opens its store (kept as it is), new publishes fail, nothing held is lost', async t => {
    const path = join(tempDir(t), 'outbox.log')
    const dead = await unreachable(t)
    const first = await run(process.execPath, [filler, path, String(dead), '6'])
    t.is(first.lines.filter(l => l.startsWith('ok ')).length, 6, first.stderr)
    /* 2 KiB allowed: compacting the 6 KiB of live records fails, appending fails */
    const r = await run('bash', ['-c', `ulimit -f 2; exec "${process.execPath}" "${filler}" "${path}" ${dead} 3`])
    t.is(r.code, 0, r.stderr)
    t.regex(r.lines[0] ?? '', new RegExp(`^fail 0 ${R_ERR_CANT_WRITE} Cannot write the outbound store ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`))
    const store = new FileStore(path)
    t.deepEqual(store.restored.map(m => Number(new TextDecoder().decode(m.payload).split(':')[0])), [0, 1, 2, 3, 4, 5])
    store.close()
})

function exited(child: ChildProcess): Promise<void> {
    return new Promise(resolve => child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve()))
}

function* awaitPromise<T>(p: Promise<T>): Fiber<T> {
    return yield* rAwait(p)
}

test('SIGKILL at random points: the store is never damaged beyond a torn tail, keeps every accepted message, and a subscriber then gets them all', async t => {
    const dir = tempDir(t)
    const store = { path: join(dir, 'outbox.log') }
    const dead = await unreachable(t)
    const broker: Broker = await startAedes()
    t.teardown(() => broker.stop())
    const accepted = new Set<number>()
    let next = 0
    await inFiber(function* () {
        for (let round = 0; round < 4; round++) {
            const child = spawn(process.execPath, [publisher, JSON.stringify({ mqtt: { server: `127.0.0.1:${dead}`, client_id: 'killed' }, store }), String(next), String(next + 100_000)], { stdio: ['pipe', 'pipe', 'pipe'] })
            const lines: string[] = []
            let stderr = ''
            linesOf(child.stdout!, lines)
            child.stderr!.on('data', (d: Buffer) => { stderr += d.toString() })
            /* Killed after a random number of accepted messages: mid-write, mid-publish, anywhere */
            const target = 20 + Math.floor(Math.random() * 80)
            t.true(yield* until(() => lines.length >= target, 15_000), `round ${round}: ${lines.length} lines`)
            child.kill('SIGKILL')
            yield* awaitPromise(exited(child))
            const got = lines.filter(l => l.startsWith('queued ')).map(l => Number(l.slice(7)))
            got.forEach(n => accepted.add(n))
            t.deepEqual(lines.filter(l => !l.startsWith('queued ')), [], `round ${round}: every publish is accepted\n${stderr}`)
            const bytes = readFileSync(store.path)
            const scan = scanStore(bytes)
            t.true(scan.damage.every(d => d.tail), `round ${round}: ${JSON.stringify(scan.damage)}`)
            const held = new Set(scan.messages.map(m => Number(new TextDecoder().decode(m.payload))))
            t.deepEqual([...accepted].filter(n => !held.has(n)), [], `round ${round}: every accepted message is in the store (${bytes.length} bytes, ${held.size} messages held)\n${stderr}`)
            next = Math.max(...got) + 2
        }
        /* Restarted with the broker reachable: a subscriber gets every accepted message */
        const sink: number[] = []
        const c = yield* connectClient(broker.port)
        yield* mqttSubscribe(c.mq, (rp: MqttRecv) => { sink.push(Number(rp.text)) }, 1, MQTT_WAIT_ACK, 'durable/test')
        const last = spawn(process.execPath, [publisher, JSON.stringify({ mqtt: { server: `127.0.0.1:${broker.port}`, client_id: 'killed' }, store }), '0', '0'], { stdio: ['pipe', 'pipe', 'ignore'] })
        try {
            const ok = yield* until(() => [...accepted].every(n => sink.includes(n)), 15_000)
            t.true(ok, `received ${new Set(sink).size} of ${accepted.size}`)
        } finally {
            last.kill('SIGKILL')
            yield* awaitPromise(exited(last))
            c.sock.handle?.destroy()
        }
    })
})
