import test from 'ava'
import { rGetTicks, rSetLogHandler, R_ERR_NOT_CONNECTED, R_ERR_TOO_MANY, type Fiber } from '../../runtime/index.js'
import { rAllocSocket, rCloseSocket, rConnectSocket, rSetSocketLinger } from '../../socket/index.js'
import {
    mqttAlloc, mqttConnect, mqttDisconnect, mqttFree, mqttGetError, mqttGetStats, mqttIsConnected, mqttPublish,
    mqttRequest, mqttSetQueue, mqttSetTimeout, mqttSubscribe, mqttSubscribeMaster, mqttThrottle, mqttUnsubscribe,
    mqttUnsubscribeMaster, MQTT_CONNECT_CLEAN_SESSION, MQTT_EVENT_ATTACH, MQTT_EVENT_TIMEOUT, MQTT_WAIT_ACK,
    MQTT_WAIT_NONE, type Mqtt, type MqttRecv,
} from '../../mqtt/index.js'
import { startAedes, type Broker } from '../../brokers/broker.js'
import { ownConfig } from '../../mqtt/client/config.js'
import { inFiber } from '../helpers/fiber.js'
import { clientId, connectClient } from '../helpers/client.js'
import { scripted } from '../helpers/peer.js'
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

function* done(...clients: { mq: Mqtt, sock: any }[]): Fiber<void> {
    for (const c of clients) {
        mqttDisconnect(c.mq)
        yield* mqttFree(c.mq)
        rCloseSocket(c.sock)
    }
}

test('master subscriptions: one broker SUBSCRIBE, local callbacks beneath it, local unsubscribe', async t => {
    await inFiber(function* () {
        const c = yield* connectClient(broker.port)
        const base = `ioto/device/${c.mq.id}`
        t.is(yield* mqttSubscribeMaster(c.mq, 1, MQTT_WAIT_ACK, 'ioto/device/%s/#', c.mq.id), 0)
        const cmd: string[] = []
        const cfg: string[] = []
        const sentBefore = c.mq.nextId
        t.is(yield* mqttSubscribe(c.mq, (rp: MqttRecv) => { cmd.push(rp.text) }, 1, MQTT_WAIT_ACK, '%s/cmd/+', base), 0)
        t.is(yield* mqttSubscribe(c.mq, (rp: MqttRecv) => { cfg.push(rp.text) }, 1, MQTT_WAIT_ACK, '%s/config', base), 0)
        t.is(c.mq.nextId, sentBefore, 'no SUBSCRIBE went to the broker for covered filters')
        const pub = yield* connectClient(broker.port)
        yield* mqttPublish(pub.mq, 'reboot', 0, 1, MQTT_WAIT_ACK, '%s/cmd/reboot', base)
        yield* mqttPublish(pub.mq, 'blue', 0, 1, MQTT_WAIT_ACK, '%s/config', base)
        yield* mqttPublish(pub.mq, 'ignored', 0, 1, MQTT_WAIT_ACK, '%s/other', base)
        t.true(yield* until(() => cmd.length === 1 && cfg.length === 1))
        t.is(yield* mqttUnsubscribe(c.mq, `${base}/config`, MQTT_WAIT_ACK), 0)
        t.is(c.mq.topics.length, 1, 'only its own entry was removed')
        yield* mqttPublish(pub.mq, 'green', 0, 1, MQTT_WAIT_ACK, '%s/config', base)
        yield* mqttPublish(pub.mq, 'halt', 0, 1, MQTT_WAIT_ACK, '%s/cmd/halt', base)
        t.true(yield* until(() => cmd.length === 2))
        t.deepEqual(cfg, ['blue'])
        t.is(yield* mqttUnsubscribeMaster(c.mq, `${base}/#`, MQTT_WAIT_ACK), 0)
        t.deepEqual(c.mq.masterTopics, [])
        yield* done(c, pub)
    })
})

test('mqttRequest: a request on ioto/service/... answered on ioto/device/..., and a timeout', async t => {
    await inFiber(function* () {
        const device = yield* connectClient(broker.port)
        const service = yield* connectClient(broker.port)
        yield* mqttSubscribe(service.mq, function* (rp: MqttRecv) {
            /* ioto/service/{id}/{topic}/{seq} -> ioto/device/{id}/{topic}/{seq} */
            const [, , id, topic, seq] = rp.topic.split('/')
            yield* mqttPublish(rp.mq, `answer to ${rp.text}`, 0, 1, MQTT_WAIT_NONE, 'ioto/device/%s/%s/%s', id, topic, seq)
        }, 1, MQTT_WAIT_ACK, 'ioto/service/+/store/+')
        t.is(yield* mqttRequest(device.mq, '{"key":"counter"}', 5000, 'store'), 'answer to {"key":"counter"}')
        t.is(yield* mqttRequest(device.mq, 'again', 5000, 'store'), 'answer to again')
        const start = rGetTicks()
        const lines: string[] = []
        const prior = rSetLogHandler((_t, _s, msg) => { lines.push(msg) })
        try {
            t.is(yield* mqttRequest(device.mq, 'nobody', 200, 'nothing/here'), null)
        } finally {
            rSetLogHandler(prior)
        }
        t.true(rGetTicks() - start >= 199)
        t.true(lines.includes('MQTT request timed out'))
        yield* done(device, service)
    })
})

test('on-demand connection: MQTT_EVENT_ATTACH lets the event proc connect when a call needs it', async t => {
    await inFiber(function* () {
        const events: number[] = []
        const mq = mqttAlloc(clientId('attach'), function* (m: Mqtt, event: number) {
            events.push(event)
            if (event === MQTT_EVENT_ATTACH) {
                const sock = rAllocSocket()
                yield* rConnectSocket(sock, '127.0.0.1', broker.port, 0)
                yield* mqttConnect(m, sock, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK)
            }
        })!
        t.is(yield* mqttPublish(mq, 'on demand', 0, 1, MQTT_WAIT_ACK, 'attach/test'), 0)
        t.is(events[0], MQTT_EVENT_ATTACH)
        t.true(mqttIsConnected(mq))
        mqttDisconnect(mq)
        yield* mqttFree(mq)
        rCloseSocket(mq.sock)
    })
})

test('mqttThrottle slows publishing down and decays', async t => {
    await inFiber(function* () {
        const c = yield* connectClient(broker.port)
        mqttThrottle(c.mq)
        c.mq.throttle = 150
        const start = rGetTicks()
        t.is(yield* mqttPublish(c.mq, 'slow', 0, 0, MQTT_WAIT_NONE, 'throttle/x'), 0)
        t.true(rGetTicks() - start >= 149)
        t.true(c.mq.throttle <= 150)
        yield* done(c)
    })
})

test('the idle timeout raises MQTT_EVENT_TIMEOUT and does not disconnect by itself', async t => {
    await inFiber(function* () {
        const events: number[] = []
        const c = yield* connectClient(broker.port, { proc: (_m, ev) => { events.push(ev) }, prepare: mq => mqttSetTimeout(mq, 300) })
        t.true(yield* until(() => events.includes(MQTT_EVENT_TIMEOUT), 2000))
        t.true(mqttIsConnected(c.mq))
        yield* done(c)
    })
})

test('after a reconnect without a session, local subscriptions are made again at the broker', async t => {
    await inFiber(function* () {
        const topic = `resub/${clientId()}`
        const got: string[] = []
        const c = yield* connectClient(broker.port)
        yield* mqttSubscribe(c.mq, (rp: MqttRecv) => { got.push(rp.text) }, 1, MQTT_WAIT_ACK, topic)
        rSetSocketLinger(c.sock, 0)
        rCloseSocket(c.sock)
        t.true(yield* until(() => !mqttIsConnected(c.mq)))
        const sock = rAllocSocket()
        yield* rConnectSocket(sock, '127.0.0.1', broker.port, 0)
        t.is(yield* mqttConnect(c.mq, sock, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK), 0)
        t.false(c.mq.hasSession)
        t.true(yield* subscribed(c.mq))
        const pub = yield* connectClient(broker.port)
        yield* mqttPublish(pub.mq, 'after reconnect', 0, 1, MQTT_WAIT_ACK, topic)
        t.true(yield* until(() => got.length === 1))
        yield* done({ mq: c.mq, sock }, pub)
    })
})

test('queueOffline: publishes made while disconnected are sent in order after the reconnect', async t => {
    await inFiber(function* () {
        const topic = `offline/${clientId()}`
        const got: string[] = []
        const sub = yield* connectClient(broker.port)
        yield* mqttSubscribe(sub.mq, (rp: MqttRecv) => { got.push(rp.text) }, 1, MQTT_WAIT_ACK, topic)
        const c = yield* connectClient(broker.port)
        ownConfig(c.mq).queueOffline = true
        ownConfig(c.mq).qos0Offline = 'queue'
        rSetSocketLinger(c.sock, 0)
        rCloseSocket(c.sock)
        t.true(yield* until(() => !mqttIsConnected(c.mq)))
        for (let i = 0; i < 5; i++) {
            t.is(yield* mqttPublish(c.mq, `m${i}`, 0, 1, MQTT_WAIT_NONE, topic), 0)
        }
        t.is(mqttGetStats(c.mq).queued, 5)
        const sock = rAllocSocket()
        yield* rConnectSocket(sock, '127.0.0.1', broker.port, 0)
        t.is(yield* mqttConnect(c.mq, sock, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK), 0)
        t.true(yield* until(() => got.length === 5))
        t.deepEqual(got, ['m0', 'm1', 'm2', 'm3', 'm4'])
        yield* done({ mq: c.mq, sock }, sub)
    })
})

test('queue policies: reject, drop-oldest and wait (back-pressure) when the queue is full', async t => {
    await inFiber(function* () {
        const mq = mqttAlloc(clientId('policy'), null)!
        ownConfig(mq).queueOffline = true
        ownConfig(mq).qos0Offline = 'queue'
        mq.sock = rAllocSocket()
        mqttSetQueue(mq, 2, 1_000_000, 'reject')
        t.is(yield* mqttPublish(mq, 'a', 0, 1, MQTT_WAIT_NONE, 'p/a'), 0)
        t.is(yield* mqttPublish(mq, 'b', 0, 1, MQTT_WAIT_NONE, 'p/b'), 0)
        t.is(yield* mqttPublish(mq, 'c', 0, 1, MQTT_WAIT_NONE, 'p/c'), R_ERR_TOO_MANY)
        t.regex(mqttGetError(mq)!, /Outbound queue full \(2 messages/)
        mqttSetQueue(mq, 2, 1_000_000, 'drop-oldest')
        const first = mqttPublish(mq, 'd', 0, 1, MQTT_WAIT_ACK, 'p/d')
        t.is(yield* mqttPublish(mq, 'e', 0, 1, MQTT_WAIT_NONE, 'p/e'), 0)
        t.is(yield* mqttPublish(mq, 'f', 0, 1, MQTT_WAIT_NONE, 'p/f'), 0)
        t.is(yield* first, R_ERR_TOO_MANY, "a dropped message's waiter learns it")
        t.is(mqttGetStats(mq).dropped, 3)
        const queued: string[] = []
        for (let i = 0; i < mq.pending.length; i++) {
            const m = mq.pending.shift()!
            queued.push(m.topic)
            mq.pending.push(m)
        }
        t.deepEqual(queued, ['p/e', 'p/f'])
        mqttSetQueue(mq, 2, 1_000_000, 'wait')
        const parked = mqttPublish(mq, 'f', 0, 1, MQTT_WAIT_NONE, 'p/f')
        t.false((parked as any).settled, 'the publisher waits for room')
        yield* mqttFree(mq)
        t.is(yield* parked, R_ERR_NOT_CONNECTED)
    })
})

test('publishes while disconnected without queueOffline fail at once with R_ERR_NOT_CONNECTED', async t => {
    await inFiber(function* () {
        const { port, listener } = yield* scripted(function* (peer) {
            yield* peer.accept()
            peer.close()
        })
        const c = yield* connectClient(port)
        t.true(yield* until(() => !mqttIsConnected(c.mq)))
        t.is(yield* mqttPublish(c.mq, 'x', 0, 1, MQTT_WAIT_NONE, 'a'), c.mq.error)
        t.not(c.mq.error, 0)
        rCloseSocket(c.sock)
        rCloseSocket(listener)
    })
})
