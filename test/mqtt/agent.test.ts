import test from 'ava'
import { rDeadline, rGetTicks, rSleep, rWatch, rWatchOff, R_ERR_NOT_CONNECTED, R_ERR_TIMEOUT, type Fiber } from '../../runtime/index.js'
import { mqttPublish, mqttSubscribe, MQTT_WAIT_ACK, MQTT_WAIT_NONE, type MqttRecv } from '../../mqtt/index.js'
import { ioAgent, ioAgentStats, ioAgentStop, ioConnect, ioConnected, ioDisconnect, ioPause, ioto, type Agent } from '../../mqtt/agent/index.js'
import { freePort, startAedes, type Broker } from '../../brokers/broker.js'
import { inFiber } from '../helpers/fiber.js'
import { scripted } from '../helpers/peer.js'
import { rCloseSocket } from '../../socket/index.js'
import type { ConnectPacket } from '../../mqtt/index.js'
import { clientId, connectClient } from '../helpers/client.js'
import { subscribed, until } from './suite.js'
import { quietLogs } from '../helpers/quiet.js'

quietLogs(test)

let broker: Broker
test.before(async () => {
    broker = await startAedes()
})
test.after.always(async () => {
    await broker?.stop()
})

function config(port: number, extra: Record<string, unknown> = {}, mqtt: Record<string, unknown> = {}) {
    return { mqtt: { server: `127.0.0.1:${port}`, client_id: clientId('agent'), reconnect_timeout_min: 0.05, reconnect_timeout_max: 0.4, keep_alive: 5, ...mqtt }, ...extra }
}

function* collector(port: number, filter: string): Fiber<{ got: string[], close: () => void }> {
    const got: string[] = []
    const c = yield* connectClient(port)
    yield* mqttSubscribe(c.mq, (rp: MqttRecv) => { got.push(rp.text) }, 2, MQTT_WAIT_ACK, filter)
    return { got, close: () => c.sock.handle?.destroy() }
}

test.serial('the agent connects, raises mqtt:connected, runs ioStart once and ioStop on shutdown', async t => {
    await inFiber(function* () {
        const events: string[] = []
        const onConnected = () => { events.push('mqtt:connected') }
        const onDisconnected = () => { events.push('mqtt:disconnected') }
        rWatch('mqtt:connected', onConnected, null)
        rWatch('mqtt:disconnected', onDisconnected, null)
        const agent = ioAgent(config(broker.port), {
            ioStart: function* (a: Agent) {
                events.push('ioStart')
                yield* mqttPublish(a.mqtt, 'started', 0, 1, MQTT_WAIT_ACK, 'agent/start')
            },
            ioStop: () => { events.push('ioStop') },
        })
        t.is(ioto.agent, agent)
        t.is(ioto.mqtt, agent.mqtt)
        t.true(yield* until(() => events.includes('ioStart')))
        t.true(ioConnected(agent))
        t.is(ioAgentStats(agent).server, `127.0.0.1:${broker.port}`)
        ioDisconnect(agent)
        t.true(yield* until(() => agent.reconnects === 1))
        t.is(events.filter(e => e === 'ioStart').length, 1)
        yield* ioAgentStop(agent)
        yield* rSleep(10)
        t.deepEqual(events, ['mqtt:connected', 'ioStart', 'mqtt:disconnected', 'mqtt:connected', 'ioStop', 'mqtt:disconnected'])
        t.is(ioto.agent, null)
        rWatchOff('mqtt:connected', onConnected, null)
        rWatchOff('mqtt:disconnected', onDisconnected, null)
    })
})

test('publishes made before the broker is up queue in order; waiters keep waiting until delivered or their deadline', async t => {
    const port = await freePort()
    const topic = `agent/offline/${clientId()}`
    const agent = await inFiber<Agent>(function* () {
        const a = ioAgent(config(port))
        for (let i = 0; i < 20; i++) {
            t.is(yield* mqttPublish(a.mqtt, `m${i}`, 0, 1, MQTT_WAIT_NONE, topic), 0)
        }
        /* A waiter with a deadline stops waiting at the deadline; its message stays queued */
        const start = rGetTicks()
        t.is(yield* rDeadline(mqttPublish(a.mqtt, 'm20', 0, 1, MQTT_WAIT_ACK, topic), start + 100), R_ERR_TIMEOUT)
        t.true(rGetTicks() - start >= 99)
        return a
    })
    t.is(ioAgentStats(agent).queued, 21)
    /* The agent waits while the broker starts and the collector subscribes: a message delivered before the
       subscription exists would be dropped by the broker, which is not what is tested here */
    ioPause(agent)
    const later = await startAedes({ port })
    try {
        await inFiber(function* () {
            const sink = yield* collector(port, topic)
            t.is(ioAgentStats(agent).queued, 21)
            /* A waiter made while offline settles once its message is acknowledged */
            const start = rGetTicks()
            ioConnect(agent)
            t.is(yield* mqttPublish(agent.mqtt, 'm21', 0, 1, MQTT_WAIT_ACK, topic), 0)
            t.true(rGetTicks() - start < 5000)
            t.true(yield* until(() => sink.got.length === 22, 10_000))
            t.deepEqual(sink.got, Array.from({ length: 22 }, (_, i) => `m${i}`))
            sink.close()
            yield* ioAgentStop(agent)
        })
    } finally {
        await later.stop()
    }
})

test('held subscriptions are masters: local callbacks beneath them, kept across reconnects', async t => {
    await inFiber(function* () {
        const id = clientId('held')
        const agent = ioAgent(config(broker.port, { subscriptions: [`dev/${id}/#`] }))
        const got: string[] = []
        yield* until(() => ioConnected(agent))
        yield* mqttSubscribe(agent.mqtt, (rp: MqttRecv) => { got.push(rp.text) }, 1, MQTT_WAIT_ACK, 'dev/%s/cmd', id)
        const pub = yield* connectClient(broker.port)
        yield* mqttPublish(pub.mq, 'one', 0, 1, MQTT_WAIT_ACK, `dev/${id}/cmd`)
        t.true(yield* until(() => got.length === 1))
        ioDisconnect(agent)
        t.true(yield* until(() => agent.reconnects === 1 && ioConnected(agent)))
        t.true(yield* subscribed(agent.mqtt))
        yield* mqttPublish(pub.mq, 'two', 0, 1, MQTT_WAIT_ACK, `dev/${id}/cmd`)
        t.true(yield* until(() => got.length === 2))
        t.deepEqual(got, ['one', 'two'])
        pub.sock.handle?.destroy()
        yield* ioAgentStop(agent)
    })
})

test('ioConnect cuts a backoff wait short; stopping settles waiters and keeps nothing running', async t => {
    const port = await freePort()
    await inFiber(function* () {
        const agent = ioAgent(config(port, {}, { reconnect_timeout_min: 5, reconnect_timeout_max: 10 }))
        yield* until(() => agent.attempts.length === 1)
        const w = mqttPublish(agent.mqtt, 'x', 0, 1, MQTT_WAIT_ACK, 'a')
        ioConnect(agent)
        t.true(yield* until(() => agent.attempts.length === 2, 1000), 'a second attempt at once, not after 5 s')
        yield* ioAgentStop(agent)
        t.is(yield* w, R_ERR_NOT_CONNECTED)
    })
})

test('each server is reached as itself: the backup (mqtt1) with its own client id, credentials and will; back on the primary, its own', async t => {
    await inFiber(function* () {
        const connects: { server: string, packet: ConnectPacket }[] = []
        /* The primary refuses the first three logins (server unavailable), then accepts */
        const primary = yield* scripted(function* (peer, index) {
            const connect = yield* peer.expect(1)
            if (connect === null) {
                return
            }
            connects.push({ server: 'primary', packet: connect as ConnectPacket })
            yield* peer.send({ type: 2, sessionPresent: false, returnCode: index < 3 ? 3 : 0 })
            yield* peer.next(3000)
        })
        const backup = yield* scripted(function* (peer) {
            const connect = yield* peer.accept()
            if (connect !== null) {
                connects.push({ server: 'backup', packet: connect as ConnectPacket })
            }
            yield* peer.next(3000)
        })
        const agent = ioAgent({
            mqtt: { server: `127.0.0.1:${primary.port}`, client_id: 'dev-primary', user: 'p', pass: 'p1', reconnect_timeout_min: 0.05, reconnect_timeout_max: 0.1 },
            mqtt1: { server: `127.0.0.1:${backup.port}`, client_id: 'dev-backup', user: 'b', pass: 'b1', will_topic: 'dev/backup/gone', will_message: 'bye' },
            failback_interval: 0.3,
        })
        t.true(yield* until(() => connects.some(c => c.server === 'backup'), 5000))
        const b = connects.find(c => c.server === 'backup')!.packet
        t.is(b.clientId, 'dev-backup')
        t.is(b.username, 'b')
        t.is(new TextDecoder().decode(b.password!), 'b1')
        t.is(b.will?.topic, 'dev/backup/gone')
        t.true(yield* until(() => connects.filter(c => c.server === 'primary').length === 4 && agent.server === 0 && ioConnected(agent), 5000))
        const p = connects.filter(c => c.server === 'primary')[3].packet
        t.is(p.clientId, 'dev-primary')
        t.is(p.username, 'p')
        t.is(p.will, null, 'the backup\'s will is not carried to the primary')
        yield* ioAgentStop(agent)
        rCloseSocket(primary.listener)
        rCloseSocket(backup.listener)
    })
})

test('beforeConnect runs before every attempt and may block: a fresh token each time, refused first, accepted next', async t => {
    await inFiber(function* () {
        const connects: ConnectPacket[] = []
        const broker = yield* scripted(function* (peer, index) {
            const connect = yield* peer.expect(1)
            if (connect === null) {
                return
            }
            connects.push(connect as ConnectPacket)
            /* The first token is refused as a bad password (CONNACK 4) */
            yield* peer.send({ type: 2, sessionPresent: false, returnCode: index === 0 ? 4 : 0 })
            yield* peer.next(3000)
        })
        let issued = 0
        const agent = ioAgent({ mqtt: { server: `127.0.0.1:${broker.port}`, client_id: 'dev-token', user: 'dev', reconnect_timeout_min: 0.05, reconnect_timeout_max: 0.1 } }, {
            *beforeConnect(_agent, server) {
                yield* rSleep(10)
                server.pass = `token-${++issued}`
            },
        })
        t.true(yield* until(() => ioConnected(agent), 5000))
        t.deepEqual(connects.map(c => new TextDecoder().decode(c.password!)), ['token-1', 'token-2'])
        t.regex(agent.attempts[0].error, /CONNACK 4/)
        /* The configuration itself is untouched: each attempt starts from it */
        t.is(agent.config.servers[0].pass, '')
        yield* ioAgentStop(agent)
        rCloseSocket(broker.listener)
    })
})

test('a beforeConnect that throws, refuses, or leaves a bad password or client id abandons the attempt with the reason and backs off', async t => {
    const port = await freePort()
    await inFiber(function* () {
        let calls = 0
        const agent = ioAgent({ mqtt: { server: `127.0.0.1:${port}`, client_id: 'dev-hook', reconnect_timeout_min: 0.05, reconnect_timeout_max: 0.1 } }, {
            beforeConnect(_agent, server) {
                calls++
                if (calls === 1) {
                    throw new Error('no token service')
                }
                if (calls === 2) {
                    return -1
                }
                if (calls === 3) {
                    server.pass = 'p'.repeat(70_000)
                    return
                }
                server.clientId = 'x'.repeat(70_000)
            },
        })
        t.true(yield* until(() => agent.attempts.length >= 4, 5000))
        yield* ioAgentStop(agent)
        t.regex(agent.attempts[0].error, /^beforeConnect failed: no token service/)
        t.regex(agent.attempts[1].error, /^beforeConnect abandoned the attempt \(-1\)/)
        t.regex(agent.attempts[2].error, /^User name and password must be strings \(or bytes\) of at most 65535 and 65535 bytes/)
        t.regex(agent.attempts[3].error, /^Bad client id "x+": longer than 65535 bytes/)
        t.true(agent.attempts.every(a => a.rc < 0))
    })
})

test('the agent connects to a server given as a URL (credentials from it), and reads a client id of 200 bytes', async t => {
    const secured = await startAedes({ users: { 'dev@1': 'to/ken' } })
    try {
        await inFiber(function* () {
            const id = `${clientId('url')}-${'x'.repeat(190)}`
            const agent = ioAgent({ mqtt: { server: `mqtt://dev%401:to%2Fken@127.0.0.1:${secured.port}`, client_id: id, reconnect_timeout_min: 0.05 } })
            t.true(yield* until(() => ioConnected(agent), 5000), JSON.stringify(agent.attempts))
            t.is(agent.serverName, `127.0.0.1:${secured.port}`)
            t.is(agent.mqtt.id, id)
            yield* ioAgentStop(agent)
        })
    } finally {
        await secured.stop()
    }
})
