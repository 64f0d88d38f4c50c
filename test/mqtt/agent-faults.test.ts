import test from 'ava'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { rAwait, rGetTicks, rSleep, rSpawnFiber, type Fiber } from '../../runtime/index.js'
import { mqttGetStats, mqttPublish, mqttPublishRetained, mqttSubscribe, MQTT_WAIT_ACK, MQTT_WAIT_NONE, type MqttRecv } from '../../mqtt/index.js'
import { ownConfig } from '../../mqtt/client/config.js'
import { ioAgent, ioAgentStats, ioAgentStop, ioConnected, type Agent } from '../../mqtt/agent/index.js'
import { freePort, mosquittoPath, startAedes, startMosquitto, type Broker } from '../../brokers/broker.js'
import { inFiber } from '../helpers/fiber.js'
import { clientId, connectClient } from '../helpers/client.js'
import { FaultProxy } from '../../brokers/fault-proxy.js'
import { subscribed, until } from './suite.js'
import { quietLogs } from '../helpers/quiet.js'
import { deadPort } from '../helpers/net.js'
import { rCloseSocket } from '../../socket/index.js'

quietLogs(test)

const publisherScript = fileURLToPath(new URL('../helpers/durable-publisher.js', import.meta.url))

function agentConfig(port: number, mqtt: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
    return {
        mqtt: { server: `127.0.0.1:${port}`, client_id: clientId('fault'), clean_session: false, keep_alive: 2, reconnect_timeout_min: 0.05, reconnect_timeout_max: 0.2, ...mqtt },
        stable_time: 1, ...extra,
    }
}

/** A receiver connected straight to the broker, recording message numbers. */
function* receiver(port: number, topic: string, qos: number): Fiber<{ got: number[], stop: () => void }> {
    const got: number[] = []
    const c = yield* connectClient(port)
    yield* mqttSubscribe(c.mq, (rp: MqttRecv) => { got.push(Number(rp.text)) }, qos, MQTT_WAIT_ACK, topic)
    return { got, stop: () => c.sock.handle?.destroy() }
}

/** Publish 0..count-1, one every `gap` ms. */
function* stream(agent: Agent, topic: string, qos: number, count: number, gap = 2): Fiber<void> {
    for (let i = 0; i < count; i++) {
        const rc = yield* mqttPublish(agent.mqtt, String(i), 0, qos, MQTT_WAIT_NONE, topic)
        if (rc !== 0) {
            throw new Error(`publish ${i}: ${rc}`)
        }
        yield* rSleep(gap)
    }
}

if (mosquittoPath() === null) {
    test('mosquitto is installed', t => {
        t.fail('mosquitto is not installed: apt-get install -y mosquitto')
    })
} else {
    let broker: Broker
    test.before(async () => {
        broker = await startMosquitto()
    })
    test.after.always(async () => {
        await broker?.stop()
    })

    for (const qos of [1, 2]) {
        test(`links cut every 50-500 ms during a 2,000-message stream: QoS ${qos} ${qos === 1 ? 'at least once' : 'exactly once, in order'}`, async t => {
            const result = await inFiber<{ got: number[], cuts: number, reconnects: number }>(function* () {
                const topic = `cuts/${clientId()}`
                const proxy = new FaultProxy(broker.port)
                yield* proxy.start()
                const sink = yield* receiver(broker.port, topic, qos)
                const agent = ioAgent(agentConfig(proxy.port))
                yield* until(() => ioConnected(agent))
                let streaming = true
                rSpawnFiber('cutter', function* () {
                    while (streaming) {
                        yield* rSleep(50 + Math.floor(Math.random() * 450))
                        if (streaming) {
                            proxy.cut()
                        }
                    }
                })
                yield* stream(agent, topic, qos, 2000)
                streaming = false
                yield* until(() => new Set(sink.got).size === 2000, 30_000)
                yield* rSleep(200)
                const stats = ioAgentStats(agent)
                yield* ioAgentStop(agent)
                proxy.stop()
                sink.stop()
                return { got: sink.got, cuts: proxy.cuts, reconnects: stats.reconnects }
            })
            t.true(result.cuts >= 5, `${result.cuts} cuts`)
            t.true(result.reconnects >= 5, `${result.reconnects} reconnects`)
            const unique = new Set(result.got)
            t.is(unique.size, 2000, 'every message arrived')
            if (qos === 2) {
                t.is(result.got.length, 2000, 'no duplicates')
                t.deepEqual(result.got, Array.from({ length: 2000 }, (_, i) => i), 'in order')
            }
        })
    }

    test('mosquitto killed and restarted (persistence on) in the middle of a stream: nothing is lost', async t => {
        const persistent = await startMosquitto({ persistence: true })
        try {
            const got = await inFiber<number[]>(function* () {
                const topic = `kill/${clientId()}`
                const received: number[] = []
                const sub = ioAgent(agentConfig(persistent.port, {}, { subscriptions: [{ topic, qos: 1 }] }))
                yield* until(() => ioConnected(sub))
                yield* mqttSubscribe(sub.mqtt, (rp: MqttRecv) => { received.push(Number(rp.text)) }, 1, MQTT_WAIT_NONE, topic)
                t.true(yield* subscribed(sub.mqtt))
                const pub = ioAgent(agentConfig(persistent.port))
                yield* until(() => ioConnected(pub))
                rSpawnFiber('killer', function* () {
                    yield* rSleep(700)
                    yield* awaitPromise(persistent.kill())
                    yield* rSleep(300)
                    yield* awaitPromise(persistent.restart())
                })
                yield* stream(pub, topic, 1, 1000, 2)
                yield* until(() => new Set(received).size === 1000, 30_000)
                yield* ioAgentStop(pub)
                yield* ioAgentStop(sub)
                return received
            })
            t.is(new Set(got).size, 1000)
        } finally {
            await persistent.stop()
        }
    })

    test('mosquitto restarted without persistence between a QoS 2 PUBREC and its PUBCOMP: the message is published again in the new session', async t => {
        const volatile = await startMosquitto()
        try {
            await inFiber(function* () {
                const topic = `lost/${clientId()}`
                const pub = ioAgent(agentConfig(volatile.port))
                t.true(yield* until(() => ioConnected(pub)))
                /* The broker stops the moment it has sent the PUBREC: the PUBREL goes into a socket nobody reads. It
                   delivers on PUBREL, so the message is stored there, not yet delivered, when it dies */
                let stopped = false
                pub.mqtt.trace = true
                ownConfig(pub.mqtt).tracer = (direction, p) => {
                    if (!stopped && direction === 'received' && p.type === 5) {
                        stopped = true
                        volatile.process.kill('SIGSTOP')
                    }
                }
                t.is(yield* mqttPublishRetained(pub.mqtt, 'precious', 0, 2, MQTT_WAIT_NONE, topic), 0)
                t.true(yield* until(() => stopped))
                yield* awaitPromise(volatile.kill())
                yield* awaitPromise(volatile.restart())
                /* A new session (session present 0): published afresh, done on its own PUBCOMP */
                t.true(yield* until(() => mqttGetStats(pub.mqtt).acknowledged === 1, 15_000))
                /* The broker has it: retained, a new subscriber gets it */
                const got: string[] = []
                const sub = yield* connectClient(volatile.port)
                t.is(yield* mqttSubscribe(sub.mq, (rp: MqttRecv) => { got.push(rp.text) }, 2, MQTT_WAIT_ACK, topic), 0)
                t.true(yield* until(() => got.length > 0))
                t.deepEqual(got, ['precious'])
                yield* ioAgentStop(pub)
                sub.sock.handle?.destroy()
            })
        } finally {
            volatile.process.kill('SIGCONT')
            await volatile.stop()
        }
    })

    test('a black-holed link is detected by keep-alive within 1.5x and the agent reconnects', async t => {
        await inFiber(function* () {
            const proxy = new FaultProxy(broker.port)
            yield* proxy.start()
            const agent = ioAgent(agentConfig(proxy.port, { keep_alive: 1 }))
            yield* until(() => ioConnected(agent))
            yield* rSleep(200)
            const start = rGetTicks()
            proxy.blackhole = true
            t.true(yield* until(() => !ioConnected(agent), 3000))
            const detected = rGetTicks() - start
            proxy.blackhole = false
            t.true(detected <= 1500 + 150, `detected after ${detected} ms`)
            t.regex(agent.mqtt.errorMsg, /link is dead/)
            t.true(yield* until(() => ioConnected(agent), 3000))
            t.is(agent.reconnects, 1)
            yield* ioAgentStop(agent)
            proxy.stop()
        })
    })

    test('primary down: the agent reaches the backup; primary back: it returns', async t => {
        const primaryPort = await freePort()
        let primary: Broker | null = null
        try {
            await inFiber(function* () {
                const agent = ioAgent({
                    mqtt: { server: `127.0.0.1:${primaryPort}`, client_id: clientId('failover'), reconnect_timeout_min: 0.05, reconnect_timeout_max: 0.2 },
                    mqtt1: { server: `127.0.0.1:${broker.port}` },
                    failback_interval: 0.3,
                })
                t.true(yield* until(() => ioConnected(agent), 5000))
                t.is(agent.serverName, `127.0.0.1:${broker.port}`)
                t.is(agent.server, 1)
                const failures = agent.attempts.filter(a => a.rc !== 0)
                t.true(failures.length >= 3 && failures.every(a => a.server === `127.0.0.1:${primaryPort}`))
                primary = yield* awaitPromise(startAedes({ port: primaryPort }))
                t.true(yield* until(() => agent.server === 0 && ioConnected(agent), 5000))
                t.is(ioAgentStats(agent).server, `127.0.0.1:${primaryPort}`)
                yield* ioAgentStop(agent)
            })
        } finally {
            await (primary as Broker | null)?.stop()
        }
    })

    for (const [name, host] of [['connection refused', '127.0.0.1'], ['unknown host', 'no-such-host.invalid']] as const) {
        test(`${name}: the backoff intervals grow as configured`, async t => {
            const port = await freePort()
            await inFiber(function* () {
                const agent = ioAgent({ mqtt: { server: `${host}:${port}`, client_id: clientId('backoff'), reconnect_timeout_min: 0.1, reconnect_timeout_max: 0.4 } })
                yield* until(() => agent.attempts.length >= 6, 10_000)
                const attempts = agent.attempts
                /* The wait alone: from the end of one attempt to the start of the next (a slow DNS answer does not count) */
                const gaps = attempts.slice(1).map((a, i) => a.began - attempts[i].at)
                yield* ioAgentStop(agent)
                /* Intervals of 100, 200, 400, 400, 400 ms, each less up to 25% jitter; a busy machine may fire late */
                const expected = [100, 200, 400, 400, 400]
                gaps.slice(0, 5).forEach((gap, i) => {
                    t.true(gap >= expected[i] * 0.75 - 5 && gap <= expected[i] + 120, `gap ${i}: ${gap} ms, expected about ${expected[i]}`)
                })
                t.regex(agent.attempts[0].error, name === 'unknown host' ? /Cannot find the address/ : /refused/)
            })
        })
    }

    test('a refused login backs off instead of looping hot, and says why', async t => {
        const secured = await startMosquitto({ users: { alice: 'secret' } })
        try {
            await inFiber(function* () {
                const agent = ioAgent({ mqtt: { server: `127.0.0.1:${secured.port}`, client_id: clientId('login'), user: 'alice', pass: 'wrong', reconnect_timeout_min: 0.1, reconnect_timeout_max: 0.4 } })
                yield* rSleep(1000)
                const attempts = agent.attempts.length
                yield* ioAgentStop(agent)
                /* Not a hot loop: a handful of attempts in a second (intervals from 100 ms), not hundreds */
                t.true(attempts >= 2 && attempts <= 6, `${attempts} attempts in one second`)
                t.regex(agent.attempts[0].error, /Connection refused: (bad user name or password|not authorized) \(CONNACK [45]\)/)
            })
        } finally {
            await secured.stop()
        }
    })

    test('durable store: a publisher killed with SIGKILL and restarted delivers every QoS 1 message', async t => {
        const dir = mkdtempSync(join(tmpdir(), 'fiber-mqtt-store-'))
        /* Held for the test: no broker another test starts can take it */
        const dead = await deadPort()
        const run = (config: object, from: number, to: number) => {
            const child = spawn(process.execPath, [publisherScript, JSON.stringify(config), String(from), String(to)], { stdio: ['pipe', 'pipe', 'ignore'] })
            const lines: string[] = []
            child.stdout!.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)))
            return { child, lines }
        }
        try {
            await inFiber(function* () {
                const sink = yield* receiver(broker.port, 'durable/test', 1)
                const store = { path: join(dir, 'outbox.log') }
                const id = clientId('durable')
                /* 1: offline (nothing listens): 300 messages queue in the store; killed */
                const first = run({ mqtt: { server: `127.0.0.1:${dead.port}`, client_id: id }, store }, 0, 300)
                t.true(yield* until(() => first.lines.includes('queued 299'), 10_000))
                first.child.kill('SIGKILL')
                yield* awaitPromise(exited(first.child))
                /* 2: connected through a black hole (nothing acknowledged), 300 more; killed mid-stream */
                const proxy = new FaultProxy(broker.port)
                yield* proxy.start()
                proxy.blackhole = true
                const second = run({ mqtt: { server: `127.0.0.1:${proxy.port}`, client_id: id, keep_alive: 60 }, store }, 300, 600)
                t.true(yield* until(() => second.lines.includes('queued 450'), 10_000))
                second.child.kill('SIGKILL')
                yield* awaitPromise(exited(second.child))
                proxy.stop()
                t.is(sink.got.length, 0, 'nothing got through so far')
                /* Everything the killed processes had accepted: it may have queued one more after the line we saw */
                const last = Math.max(...second.lines.filter(l => l.startsWith('queued ')).map(l => Number(l.slice(7))))
                const expected = Array.from({ length: last + 1 }, (_, i) => i)
                /* 3: restarted with the broker reachable: everything is delivered */
                const third = run({ mqtt: { server: `127.0.0.1:${broker.port}`, client_id: id }, store }, 0, 0)
                try {
                    t.true(yield* until(() => new Set(sink.got).size === expected.length, 15_000), `got ${new Set(sink.got).size} of ${expected.length}`)
                    t.true(yield* until(() => third.lines.includes('idle'), 5000))
                } finally {
                    third.child.kill('SIGKILL')
                    yield* awaitPromise(exited(third.child))
                }
                t.deepEqual([...new Set(sink.got)].sort((a, b) => a - b), expected)
                sink.stop()
            })
        } finally {
            rCloseSocket(dead.listener)
            rmSync(dir, { recursive: true, force: true })
        }
    })
}

function exited(child: ChildProcess): Promise<void> {
    return new Promise(resolve => child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve()))
}

function* awaitPromise<T>(p: Promise<T>): Fiber<T> {
    return yield* rAwait(p)
}
