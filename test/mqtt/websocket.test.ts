/*
    MQTT over WebSocket against a real broker (aedes behind the ws library's server, plain and TLS), with the
    client, the agent, the CLI and the load generator, and with MQTT.js on the other end.
 */
import test from 'ava'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import mqtt from 'mqtt'
import { rAwait, R_ERR_CANT_COMPLETE, type Fiber } from '../../runtime/index.js'
import { rCloseSocket, rSetSocketCerts } from '../../socket/index.js'
import {
    mqttAlloc, mqttConnectUrl, mqttDisconnect, mqttFree, mqttGetError, mqttGetStats, mqttPublish, mqttSetCoalesce, mqttSetInflight,
    mqttSubscribe, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK, MQTT_WAIT_NONE, type Mqtt, type MqttRecv,
} from '../../mqtt/index.js'
import { ioAgent, ioAgentStop, type Agent } from '../../mqtt/agent/index.js'
import { startAedes, type Broker } from '../../brokers/broker.js'
import { inFiber } from '../helpers/fiber.js'
import { clientId } from '../helpers/client.js'
import { fixtures } from '../helpers/net.js'
import { until } from './suite.js'
import { quietLogs } from '../helpers/quiet.js'
import { ended } from '../helpers/child.js'

quietLogs(test)

const cli = fileURLToPath(new URL('../../bin/fiber-mqtt.js', import.meta.url))

let plain: Broker
let secure: Broker
test.before(async () => {
    plain = await startAedes({ websocket: {} })
    secure = await startAedes({ websocket: { tls: { cert: join(fixtures, 'server.crt'), key: join(fixtures, 'server.key') } } })
})
test.after.always(async () => {
    await plain?.stop()
    await secure?.stop()
})

function* open(url: string, ca: string | null = null): Fiber<{ mq: Mqtt, rc: number }> {
    const mq = mqttAlloc(clientId('ws'), null)!
    const rc = yield* mqttConnectUrl(mq, url, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK, sock => {
        if (ca !== null) rSetSocketCerts(sock, ca, null, null, null)
    })
    return { mq, rc }
}

function* close(mq: Mqtt): Fiber<void> {
    const sock = mq.sock
    yield* mqttDisconnect(mq, MQTT_WAIT_ACK)
    yield* mqttFree(mq)
    rCloseSocket(sock)
}

for (const kind of ['ws', 'wss'] as const) {
    test(`${kind}://: QoS 0, 1 and 2 both ways, payloads from empty to 1 MiB (every frame length class)`, async t => {
        await inFiber(function* () {
            const url = kind === 'ws' ? `ws://127.0.0.1:${plain.wsPort}/mqtt` : `wss://localhost:${secure.wsPort}/mqtt`
            const { mq, rc } = yield* open(url, kind === 'wss' ? join(fixtures, 'ca.crt') : null)
            t.is(rc, 0, mqttGetError(mq) ?? '')
            const got: string[] = []
            t.is(yield* mqttSubscribe(mq, (rp: MqttRecv) => { got.push(`${rp.topic} ${rp.qos} ${rp.dataSize}`) }, 2, MQTT_WAIT_ACK, `${kind}/#`), 0)
            const sizes = [0, 100, 125, 126, 65535, 65536, 1 << 20]
            for (const qos of [0, 1, 2]) {
                for (const size of sizes) {
                    t.is(yield* mqttPublish(mq, new Uint8Array(size).fill(qos), size, qos, MQTT_WAIT_ACK, `${kind}/${qos}`), 0)
                }
            }
            t.true(yield* until(() => got.length === 3 * sizes.length, 10_000), got.join('; '))
            t.deepEqual(got, [0, 1, 2].flatMap(q => sizes.map(s => `${kind}/${q} ${q} ${s}`)))
            yield* close(mq)
        })
    })
}

for (const kind of ['ws', 'wss'] as const) {
    test(`${kind}://: read coalescing: 5,000 QoS 1 messages out and back on one connection, every acknowledgement and message in order, naps taken`, async t => {
        const result = await inFiber<{ rcs: number[], got: number[], naps: number }>(function* () {
            const url = kind === 'ws' ? `ws://127.0.0.1:${plain.wsPort}/mqtt` : `wss://localhost:${secure.wsPort}/mqtt`
            const { mq, rc } = yield* open(url, kind === 'wss' ? join(fixtures, 'ca.crt') : null)
            t.is(rc, 0, mqttGetError(mq) ?? '')
            t.is(mqttSetCoalesce(mq, 2), 0)
            mqttSetInflight(mq, 500)
            const got: number[] = []
            const topic = `nap-${kind}/${clientId()}`
            t.is(yield* mqttSubscribe(mq, (rp: MqttRecv) => { got.push(Number(rp.text)) }, 1, MQTT_WAIT_ACK, topic), 0)
            const rcs = new Set<number>()
            for (let i = 0; i < 5000; i++) {
                rcs.add(yield* mqttPublish(mq, String(i), 0, 1, i === 4999 ? MQTT_WAIT_ACK : MQTT_WAIT_NONE, topic))
            }
            yield* until(() => got.length === 5000 && mqttGetStats(mq).inflight === 0, 30_000)
            const naps = mq.sock?.naps ?? 0
            yield* close(mq)
            return { rcs: [...rcs], got, naps }
        })
        t.deepEqual(result.rcs, [0])
        t.deepEqual(result.got, Array.from({ length: 5000 }, (_, i) => i))
        t.true(result.naps > 0, 'naps were taken')
    })
}

test('wss:// with a CA that did not sign the server: R_ERR_CANT_COMPLETE, nothing left open', async t => {
    await inFiber(function* () {
        const { mq, rc } = yield* open(`wss://localhost:${secure.wsPort}/mqtt`, join(fixtures, 'other-ca.crt'))
        t.is(rc, R_ERR_CANT_COMPLETE)
        t.regex(mqttGetError(mq) ?? '', /certificate|TLS/i)
        yield* mqttFree(mq)
    })
})

test('interop over WebSocket with MQTT.js: each publishes, the other receives', async t => {
    const other = await mqtt.connectAsync(`ws://127.0.0.1:${plain.wsPort}/mqtt`, { clientId: clientId('mqttjs'), reconnectPeriod: 0 })
    const theirs: string[] = []
    other.on('message', (topic, payload) => theirs.push(`${topic} ${payload.toString()}`))
    await other.subscribeAsync('interop/to-mqttjs', { qos: 1 })
    try {
        await inFiber(function* () {
            const { mq } = yield* open(`ws://127.0.0.1:${plain.wsPort}/mqtt`)
            const ours: string[] = []
            yield* mqttSubscribe(mq, (rp: MqttRecv) => { ours.push(`${rp.topic} ${rp.text} ${rp.qos}`) }, 1, MQTT_WAIT_ACK, 'interop/to-fiber')
            yield* rAwait(other.publishAsync('interop/to-fiber', 'from MQTT.js', { qos: 1 }))
            t.is(yield* mqttPublish(mq, 'from fiber-mqtt', 0, 1, MQTT_WAIT_ACK, 'interop/to-mqttjs'), 0)
            t.true(yield* until(() => ours.length === 1 && theirs.length === 1))
            t.deepEqual(ours, ['interop/to-fiber from MQTT.js 1'])
            t.deepEqual(theirs, ['interop/to-mqttjs from fiber-mqtt'])
            yield* close(mq)
        })
    } finally {
        await other.endAsync()
    }
})

test('the agent connects to a ws:// server and publishes', async t => {
    await inFiber(function* () {
        const got: string[] = []
        const { mq: watcher } = yield* open(`ws://127.0.0.1:${plain.wsPort}/mqtt`)
        yield* mqttSubscribe(watcher, (rp: MqttRecv) => { got.push(rp.text) }, 1, MQTT_WAIT_ACK, 'agent-ws/#')
        const agent = ioAgent({ mqtt: { server: `ws://127.0.0.1:${plain.wsPort}/mqtt`, client_id: clientId('agent-ws'), keep_alive: 5 } }, {
            ioStart: function* (a: Agent) {
                yield* mqttPublish(a.mqtt, 'over websocket', 0, 1, MQTT_WAIT_ACK, 'agent-ws/hello')
            },
        })
        t.true(yield* until(() => got.length === 1, 10_000))
        t.deepEqual(got, ['over websocket'])
        yield* ioAgentStop(agent)
        yield* close(watcher)
    })
})

function run(args: string[], ms = 20_000): Promise<{ code: number | null, out: string, err: string }> {
    return new Promise(resolve => {
        const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
        let out = '', err = ''
        child.stdout.on('data', d => { out += d })
        child.stderr.on('data', d => { err += d })
        const timer = setTimeout(() => child.kill('SIGKILL'), ms)
        void ended(child).then(code => { clearTimeout(timer); resolve({ code, out, err }) })
    })
}

test('the CLI (-L ws://) and the load generator (--url ws://) run over WebSocket', async t => {
    const url = `ws://127.0.0.1:${plain.wsPort}/mqtt`
    const pub = await run(['pub', '-L', url, '-t', 'cli-ws/t', '-m', 'hello over ws', '-q', '1', '-r'])
    t.is(pub.code, 0, pub.err)
    const sub = await run(['sub', '-L', url, '-t', 'cli-ws/t', '-C', '1', '-v', '-W', '15'])
    t.is(sub.code, 0, sub.err)
    t.is(sub.out, 'cli-ws/t hello over ws\n')
    t.is((await run(['pub', '-L', url, '-t', 'cli-ws/t', '-n', '-r'])).code, 0)
    const bench = await run(['bench', 'conn', '--url', url, '-c', '3', '-i', '0', '-d', '1', '-w', '1', '--json'])
    t.is(bench.code, 0, bench.err)
    t.like(JSON.parse(bench.out), { connects: 3, failures: 0 })
})
