/*
    The agent never hangs: connect_timeout bounds the whole attempt (a broker that accepts and never answers
    CONNACK), and ioAgentStop returns promptly from every state: right after ioAgent, backing off, connecting,
    waiting for CONNACK, online.
 */
import test from 'ava'
import { rGetTicks, rSetLogHandler, rSleep, R_ERR_TIMEOUT, type Fiber } from '../../runtime/index.js'
import { rCloseSocket } from '../../socket/index.js'
import { mqttOnMessage, mqttSubscribe, MQTT_WAIT_ACK, type MqttRecv } from '../../mqtt/index.js'
import { ioAgent, ioAgentStop, ioConnected, type Agent } from '../../mqtt/agent/index.js'
import { freePort, mosquittoPath, startAedes, startMosquitto } from '../../brokers/broker.js'
import { inFiber } from '../helpers/fiber.js'
import { scripted } from '../helpers/peer.js'
import { clientId, connectClient } from '../helpers/client.js'
import { mqttPublish } from '../../mqtt/index.js'
import { until } from './suite.js'
import { quietLogs } from '../helpers/quiet.js'

quietLogs(test)

function quiet(t: { teardown(fn: () => void): void }): string[] {
    const lines: string[] = []
    const prior = rSetLogHandler((type, source, msg) => { lines.push(`${type} ${source}: ${msg}`) })
    t.teardown(() => { rSetLogHandler(prior) })
    return lines
}

/** ioAgentStop's duration, in ms. */
function* timedStop(agent: Agent): Fiber<number> {
    const start = rGetTicks()
    yield* ioAgentStop(agent)
    return rGetTicks() - start
}

test.serial('a broker that never sends CONNACK holds an attempt no longer than connect_timeout; the agent fails over to the backup', async t => {
    quiet(t)
    const backup = await startAedes()
    t.teardown(() => backup.stop())
    await inFiber(function* () {
        let connects = 0
        const { port, listener } = yield* scripted(function* (peer) {
            yield* peer.expect(1)
            connects++
            /* Silent: no CONNACK, the connection stays open */
            yield* peer.next(20_000)
        })
        const agent = ioAgent({
            mqtt: { server: `127.0.0.1:${port}`, client_id: clientId('silent'), reconnect_timeout_min: 0.05, reconnect_timeout_max: 0.1 },
            mqtt1: { server: `127.0.0.1:${backup.port}`, client_id: clientId('backup') },
            connect_timeout: 0.5,
        })
        const start = rGetTicks()
        t.true(yield* until(() => ioConnected(agent), 10_000), JSON.stringify(agent.attempts))
        const silent = agent.attempts.filter(a => a.server === `127.0.0.1:${port}`)
        t.true(silent.length >= 1 && connects >= 1)
        for (const a of silent) {
            t.is(a.rc, R_ERR_TIMEOUT)
            t.true(a.at - a.began < 1500, `attempt took ${a.at - a.began} ms`)
            t.regex(a.error, /No CONNACK/)
        }
        t.true(rGetTicks() - start < 8000)
        t.is(agent.serverName, `127.0.0.1:${backup.port}`)
        t.true((yield* timedStop(agent)) < 1000)
        rCloseSocket(listener)
    })
})

test.serial('ioAgentStop returns promptly while waiting for CONNACK, right after ioAgent, and while backing off', async t => {
    quiet(t)
    await inFiber(function* () {
        const { port, listener } = yield* scripted(function* (peer) {
            yield* peer.expect(1)
            yield* peer.next(20_000)
        })
        /* Waiting for a CONNACK that never comes (connect_timeout 30 s) */
        const waiting = ioAgent({ mqtt: { server: `127.0.0.1:${port}`, client_id: clientId('stop1') }, connect_timeout: 30 })
        yield* rSleep(200)
        t.true((yield* timedStop(waiting)) < 1000)
        /* Right after ioAgent, and backing off from an unreachable server with a long backoff */
        const dead = yield* awaitPort()
        const fresh = ioAgent({ mqtt: { server: `127.0.0.1:${dead}`, client_id: clientId('stop2'), reconnect_timeout_min: 20, reconnect_timeout_max: 20 } })
        t.true((yield* timedStop(fresh)) < 1000)
        const backing = ioAgent({ mqtt: { server: `127.0.0.1:${dead}`, client_id: clientId('stop3'), reconnect_timeout_min: 20, reconnect_timeout_max: 20 } })
        t.true(yield* until(() => backing.attempts.length >= 1, 3000))
        yield* rSleep(50)
        t.true((yield* timedStop(backing)) < 1000)
        rCloseSocket(listener)
    })
})

function* awaitPort(): Fiber<number> {
    let port = 0
    freePort().then(p => { port = p }, () => undefined)
    yield* until(() => port > 0, 2000)
    return port
}

test.serial('with mosquitto: a resumed session delivers before the app subscribes; nothing acknowledged is lost', async t => {
    if (mosquittoPath() === null) {
        t.pass('mosquitto is not installed')
        return
    }
    quiet(t)
    const broker = await startMosquitto()
    t.teardown(() => broker.stop())
    await inFiber(function* () {
        const id = clientId('resume')
        const topic = `resume/${id}`
        /* A persistent session subscribed at QoS 1, then gone */
        const first = yield* connectClient(broker.port, { id, flags: 0 })
        t.is(yield* mqttSubscribe(first.mq, () => undefined, 1, MQTT_WAIT_ACK, topic), 0)
        rCloseSocket(first.sock)
        const pub = yield* connectClient(broker.port)
        for (let i = 0; i < 10; i++) {
            t.is(yield* mqttPublish(pub.mq, `m${i}`, 0, 1, MQTT_WAIT_ACK, topic), 0)
        }
        /* A fresh client object resumes the session: the broker delivers at once; the app subscribes later */
        const again = yield* connectClient(broker.port, { id, flags: 0 })
        t.true(again.mq.hasSession)
        t.true(yield* until(() => again.mq.stats.received === 10, 5000))
        yield* rSleep(100)
        const got: string[] = []
        t.is(yield* mqttSubscribe(again.mq, (rp: MqttRecv) => { got.push(rp.text) }, 1, MQTT_WAIT_ACK, topic), 0)
        t.true(yield* until(() => got.length === 10, 3000))
        t.deepEqual(got, Array.from({ length: 10 }, (_, i) => `m${i}`))
        /* And through the agent's default handler */
        rCloseSocket(again.sock)
        for (let i = 10; i < 13; i++) {
            yield* mqttPublish(pub.mq, `m${i}`, 0, 1, MQTT_WAIT_ACK, topic)
        }
        const unclaimed: string[] = []
        const agent = ioAgent({ mqtt: { server: `127.0.0.1:${broker.port}`, client_id: id, clean_session: false } }, {
            onMessage: (rp: MqttRecv) => { unclaimed.push(rp.text) },
        })
        t.true(yield* until(() => unclaimed.length === 3, 5000), unclaimed.join(','))
        t.deepEqual(unclaimed, ['m10', 'm11', 'm12'])
        t.is(mqttOnMessage(agent.mqtt, null), 0)
        yield* ioAgentStop(agent)
        rCloseSocket(pub.sock)
    })
})

test.serial('async hooks and event procs that reject are logged; the agent and the client go on', async t => {
    const lines = quiet(t)
    const broker = await startAedes()
    t.teardown(() => broker.stop())
    await inFiber(function* () {
        let tries = 0
        const agent = ioAgent({ mqtt: { server: `127.0.0.1:${broker.port}`, client_id: clientId('async'), reconnect_timeout_min: 0.05, reconnect_timeout_max: 0.1 } }, {
            beforeConnect: async () => {
                if (tries++ === 0) {
                    throw new Error('token service down')
                }
            },
            ioStart: async () => { throw new Error('ioStart rejects') },
            ioStop: async () => { throw new Error('ioStop rejects') },
            onMessage: async () => { throw new Error('onMessage rejects') },
        })
        t.true(yield* until(() => ioConnected(agent), 5000), JSON.stringify(agent.attempts))
        t.regex(agent.attempts[0].error, /beforeConnect failed: token service down/)
        /* A client whose event proc rejects on every event */
        const events: number[] = []
        const c = yield* connectClient(broker.port, { proc: async (_mq, ev) => { events.push(ev); throw new Error(`event proc rejects on ${ev}`) } })
        t.is(c.rc, 0)
        yield* mqttPublish(c.mq, 'nobody subscribed', 0, 1, MQTT_WAIT_ACK, `async/${clientId()}`)
        t.is(yield* mqttSubscribe(agent.mqtt, null, 1, MQTT_WAIT_ACK, 'async/unclaimed'), 0)
        yield* mqttPublish(c.mq, 'x', 0, 1, MQTT_WAIT_ACK, 'async/unclaimed')
        t.true(yield* until(() => lines.some(l => l.includes('onMessage rejects')), 3000), lines.join('\n'))
        rCloseSocket(c.sock)
        t.true(yield* until(() => events.length >= 2, 3000))
        yield* ioAgentStop(agent)
        yield* rSleep(20)
    })
    for (const text of ['ioStart rejects', 'ioStop rejects', 'event proc rejects on 2', 'event proc rejects on 3']) {
        t.true(lines.some(l => l.includes(text)), `${text}:\n${lines.join('\n')}`)
    }
})
