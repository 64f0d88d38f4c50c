import test from 'ava'
import { rGetTicks, rSetLogHandler, rSleep } from '../../runtime/index.js'
import {
    MQTT, mgos_mqtt_add_global_handler, mgos_mqtt_agent, mgos_mqtt_get_global_conn, mgos_mqtt_get_packet_id,
    mgos_mqtt_global_connect, mgos_mqtt_global_disconnect, mgos_mqtt_global_is_connected, mgos_mqtt_global_subscribe,
    mgos_mqtt_init, mgos_mqtt_num_unsent_bytes, mgos_mqtt_pub, mgos_mqtt_pubf, mgos_mqtt_reset, mgos_mqtt_set_max_qos,
    mgos_mqtt_sub, mgos_mqtt_set_connect_fn, mg_send_mqtt_handshake_opt, jsonPrintf, MG_EV_MQTT_CONNACK, MG_EV_MQTT_PUBLISH,
    MG_EV_CLOSE, MG_MQTT_CLEAN_SESSION, MG_EV_MQTT_PUBACK, MG_EV_MQTT_SUBACK, type MgSendMqttHandshakeOpts,
} from '../../mqtt/mongoose.js'
import { ioAgentStop } from '../../mqtt/agent/index.js'
import {
    mqttAlloc, mqttConnectAsync, mqttFreeAsync, mqttGetGranted, mqttMessages, mqttPingAsync, mqttPublishAsync, mqttRequestAsync,
    mqttSubscribeAsync, mqttUnsubscribeAsync, rAllocSocket, rCloseSocket, rConnectSocketAsync, rReadSocketAsync,
    rWriteSocketAsync, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK, MQTT_WAIT_NONE, type MqttRecv,
} from '../../index.js'
import { mqttConnectUrlAsync, mqttDisconnectAsync, mqttSubscribeMultiAsync } from '../../mqtt/promise.js'
import { startAedes, type Broker } from '../../brokers/broker.js'
import { inFiber } from '../helpers/fiber.js'
import { clientId } from '../helpers/client.js'
import { until } from './suite.js'
import { scripted } from '../helpers/peer.js'
import type { ConnectPacket } from '../../mqtt/index.js'
import { quietLogs } from '../helpers/quiet.js'

quietLogs(test)

let broker: Broker
test.before(async () => {
    broker = await startAedes()
})
test.after.always(async () => {
    await broker?.stop()
})

test.serial('Mongoose OS API: return values as its page documents, QoS downgrade, handlers, connect/disconnect', async t => {
    mgos_mqtt_reset()
    t.is(mgos_mqtt_pub('t', 'x', 0, 1, false), 0, 'no connection: 0')
    t.false(mgos_mqtt_global_connect())
    t.true(mgos_mqtt_init({ mqtt: { enable: false, server: `127.0.0.1:${broker.port}`, client_id: clientId('mgos'), reconnect_timeout_min: 0.05 } }))
    await inFiber(function* () {
        const events: number[] = []
        mgos_mqtt_add_global_handler((_c, ev) => { events.push(ev) })
        const got: string[] = []
        const published: unknown[] = []
        mgos_mqtt_sub('mg/#', (conn, topic, topicLen, msg, msgLen) => { got.push(`${topic}(${topicLen}) ${msg}(${msgLen}) ${conn !== null}`) })
        mgos_mqtt_global_subscribe('mg/a', (_c, ev, data) => { if (ev === MG_EV_MQTT_PUBLISH) published.push(data) })
        MQTT.sub('mg/+', (_conn, topic, msg) => { got.push(`js ${topic} ${msg}`) })
        yield* rSleep(150)
        t.false(mgos_mqtt_global_is_connected(), 'enable: false waits for mgos_mqtt_global_connect')
        t.is(mgos_mqtt_get_global_conn(), null)
        t.true(mgos_mqtt_global_connect())
        t.true(yield* until(() => mgos_mqtt_global_is_connected()))
        t.true(MQTT.isConnected())
        t.not(mgos_mqtt_get_global_conn(), null)
        t.true(yield* until(() => events.includes(MG_EV_MQTT_CONNACK)))
        yield* rSleep(100)
        const id = mgos_mqtt_pub('mg/a', 'hello', 5, 1, false)
        t.true(id > 0)
        t.is(MQTT.pub('mg/b', 'from js', 1), 1)
        t.true(mgos_mqtt_num_unsent_bytes() >= 0)
        t.true(mgos_mqtt_pubf('mg/c', 0, false, '{v: %d, ok: %B, s: %Q}', 3, false, 'x') > 0)
        t.true(yield* until(() => got.length === 6), 'all six deliveries')
        t.deepEqual(got.sort(), ['js mg/a hello', 'js mg/b from js', 'js mg/c {"v": 3, "ok": false, "s": "x"}', 'mg/a(4) hello(5) true',
            'mg/b(4) from js(7) true', 'mg/c(4) {"v": 3, "ok": false, "s": "x"}(31) true'].sort())
        t.like(published[0] as object, { topic: 'mg/a', payload: 'hello', qos: 1 })
        /* mgos_mqtt_set_max_qos(0): a QoS 1 publish goes out as QoS 0 */
        mgos_mqtt_set_max_qos(0)
        const seenQos: number[] = []
        mgos_mqtt_global_subscribe('mg/q', (_c, ev, data) => { if (ev === MG_EV_MQTT_PUBLISH) seenQos.push((data as { qos: number }).qos) })
        yield* rSleep(100)
        mgos_mqtt_pub('mg/q', 'down', 4, 1, false)
        t.true(yield* until(() => seenQos.length === 1))
        t.deepEqual(seenQos, [0])
        const a = mgos_mqtt_get_packet_id()
        t.is(mgos_mqtt_get_packet_id(), a + 1)
        mgos_mqtt_global_disconnect()
        t.true(yield* until(() => !mgos_mqtt_global_is_connected()))
        t.true(yield* until(() => events.includes(MG_EV_CLOSE)))
        yield* rSleep(200)
        t.false(mgos_mqtt_global_is_connected(), 'stays down until mgos_mqtt_global_connect')
        t.is(MQTT.pub('mg/b', 'x'), 0)
        yield* ioAgentStop(mgos_mqtt_agent()!)
        mgos_mqtt_reset()
    })
    t.is(jsonPrintf('{a: %d, b: %Q, c: %B, d: 100%%}', [1, 'q"x', 1]), '{"a": 1, "b": "q\\"x", "c": true, "d": 100%}')
})

test.serial('mgos_mqtt_set_connect_fn: the callback decides each CONNECT through mg_send_mqtt_handshake_opt', async t => {
    mgos_mqtt_reset()
    await inFiber(function* () {
        const connects: ConnectPacket[] = []
        const peer = yield* scripted(function* (p) {
            const connect = yield* p.accept()
            if (connect !== null) {
                connects.push(connect as ConnectPacket)
            }
            yield* p.next(3000)
        })
        const seen: { id: string, opts: MgSendMqttHandshakeOpts, arg: unknown }[] = []
        mgos_mqtt_set_connect_fn((conn, id, opts, arg) => {
            seen.push({ id, opts: { ...opts }, arg })
            if (seen.length === 1) {
                /* The first time it sends nothing: that attempt is abandoned and retried */
                return
            }
            mg_send_mqtt_handshake_opt(conn, `${id}-x`, { ...opts, password: `fresh-${seen.length}`, keep_alive: 30, flags: 0, will_topic: 'mg/gone', will_message: 'bye' })
        }, 'ud')
        mgos_mqtt_init({ mqtt: { enable: true, server: `127.0.0.1:${peer.port}`, client_id: 'mg-dev', user: 'dev', pass: 'old', keep_alive: 60, clean_session: true, reconnect_timeout_min: 0.05, reconnect_timeout_max: 0.1 } })
        t.true(yield* until(() => mgos_mqtt_global_is_connected(), 5000))
        t.like(seen[0], { id: 'mg-dev', arg: 'ud', opts: { user_name: 'dev', password: 'old', keep_alive: 60, flags: MG_MQTT_CLEAN_SESSION, will_topic: null } })
        t.regex(mgos_mqtt_agent()!.attempts[0].error, /did not call mg_send_mqtt_handshake_opt/)
        t.is(connects.length, 1)
        t.like(connects[0], { clientId: 'mg-dev-x', username: 'dev', keepAlive: 30, clean: false, will: { topic: 'mg/gone' } })
        t.is(new TextDecoder().decode(connects[0].password!), 'fresh-2')
        yield* ioAgentStop(mgos_mqtt_agent()!)
        rCloseSocket(peer.listener)
        mgos_mqtt_reset()
    })
})

test('promise facade: awaitable calls and async iteration over a subscription, on the same core', async t => {
    const sock = rAllocSocket()
    t.is(await rConnectSocketAsync(sock, '127.0.0.1', broker.port, 0), 0)
    const mq = mqttAlloc(clientId('promise'), null)!
    t.is(await mqttConnectAsync(mq, sock, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK), 0)
    const topic = `promise/${mq.id}`
    const seen: string[] = []
    const iterate = (async () => {
        for await (const m of mqttMessages(mq, `${topic}/#`, 1)) {
            seen.push(`${m.topic} ${m.text}`)
            if (seen.length === 3) {
                break
            }
        }
    })()
    /* Publish once the broker has granted the filter (no fixed sleep: it would not hold on a loaded machine) */
    for (let i = 0; i < 1000 && mqttGetGranted(mq, `${topic}/#`) < 0; i++) {
        await new Promise(r => setTimeout(r, 10))
    }
    t.is(mqttGetGranted(mq, `${topic}/#`), 1)
    for (let i = 0; i < 3; i++) {
        t.is(await mqttPublishAsync(mq, `n${i}`, 0, 1, MQTT_WAIT_ACK, '%s/%d', topic, i), 0)
    }
    await iterate
    t.deepEqual(seen, [0, 1, 2].map(i => `${topic}/${i} n${i}`))
    t.is(await mqttPingAsync(mq, MQTT_WAIT_ACK), 0)
    t.is(await mqttSubscribeAsync(mq, (rp: MqttRecv) => { void rp }, 1, MQTT_WAIT_ACK, 'promise/other'), 0)
    t.is(await mqttUnsubscribeAsync(mq, 'promise/other', MQTT_WAIT_ACK), 0)
    t.is(await mqttRequestAsync(mq, 'nobody', 100, 'nothing'), null)
    t.is(await mqttPublishAsync(mq, 'x', 0, 3, MQTT_WAIT_NONE, 'bad/qos'), -6)
    /* A failed subscription ends the iteration with an error */
    const bad = mqttMessages(mq, 'a/#/b', 0)
    await t.throwsAsync(bad.next(), { message: /Subscribe to "a\/#\/b" failed/ })
    await mqttFreeAsync(mq)
    rCloseSocket(sock)
    const raw = rAllocSocket()
    await rConnectSocketAsync(raw, '127.0.0.1', broker.port, 0)
    t.is(await rWriteSocketAsync(raw, Uint8Array.of(0xc0, 0), 2, 0), 2)
    t.is(await rReadSocketAsync(raw, new Uint8Array(4), 4, rGetTicks() + 1000), -29, 'aedes closes a connection whose first packet is not CONNECT')
    rCloseSocket(raw)
})

test('mqttMessages: a loop slower than the messages holds about 1,000 before reading pauses; every message arrives, in order; freeing the client ends the loop', async t => {
    const open = async (name: string) => {
        const sock = rAllocSocket()
        t.is(await rConnectSocketAsync(sock, '127.0.0.1', broker.port, 0), 0)
        const mq = mqttAlloc(clientId(name), null)!
        t.is(await mqttConnectAsync(mq, sock, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK), 0)
        return { mq, sock }
    }
    const sub = await open('iter-sub')
    const pub = await open('iter-pub')
    const topic = `iter/${sub.mq.id}`
    const it = mqttMessages(sub.mq, `${topic}/#`, 1)
    /* The call subscribes; nothing is published until the broker has granted it */
    for (let i = 0; i < 1000 && mqttGetGranted(sub.mq, `${topic}/#`) < 0; i++) {
        await new Promise(r => setTimeout(r, 10))
    }
    const count = 3000
    for (let i = 0; i < count; i++) {
        t.is(await mqttPublishAsync(pub.mq, String(i), 0, 1, i === count - 1 ? MQTT_WAIT_ACK : MQTT_WAIT_NONE, `${topic}/n`), 0)
    }
    /* Nobody takes them yet: past the mark the callbacks wait, and with enough of them waiting reading pauses */
    t.true(await inFiber<boolean>(function* () { return yield* until(() => sub.mq.backlog !== null, 20_000) }), 'reading paused')
    t.true(sub.mq.fiberCount > 0)
    const got: number[] = []
    for (let i = 0; i < count; i++) {
        const r = await it.next()
        if (r.done) {
            break
        }
        got.push(Number(r.value.text))
    }
    t.deepEqual(got, Array.from({ length: count }, (_, i) => i))
    t.is(sub.mq.backlog, null, 'reading resumed')
    /* Waiting for a message when the client is freed: the loop ends */
    const pending = it.next()
    await mqttFreeAsync(sub.mq)
    t.deepEqual(await pending, { done: true, value: undefined })
    t.deepEqual(await it.next(), { done: true, value: undefined })
    t.deepEqual(await it.return!(), { done: true, value: undefined })
    await mqttFreeAsync(pub.mq)
    rCloseSocket(sub.sock)
    rCloseSocket(pub.sock)
})

test.serial('Mongoose handlers that throw or reject are logged; the handlers after them still run', async t => {
    mgos_mqtt_reset()
    const lines: string[] = []
    const prior = rSetLogHandler((_type, _source, msg) => { lines.push(msg) })
    t.teardown(() => { rSetLogHandler(prior) })
    t.true(mgos_mqtt_init({ mqtt: { server: `127.0.0.1:${broker.port}`, client_id: clientId('mgthrow'), reconnect_timeout_min: 0.05 } }))
    await inFiber(function* () {
        const got: string[] = []
        mgos_mqtt_add_global_handler(() => { throw new Error('global handler bug') })
        mgos_mqtt_sub('mgx/#', () => { throw new Error('sub handler bug') })
        mgos_mqtt_sub('mgx/#', async () => { throw new Error('async handler bug') })
        mgos_mqtt_sub('mgx/#', (_c, topic, _tl, msg) => { got.push(`${topic} ${msg}`) })
        t.true(yield* until(() => mgos_mqtt_global_is_connected()))
        yield* rSleep(100)
        t.true(mgos_mqtt_pub('mgx/a', 'still delivered', 15, 1, false) > 0)
        t.true(yield* until(() => got.length === 1 && lines.some(l => l.includes('async handler bug'))), lines.join('\n'))
        t.deepEqual(got, ['mgx/a still delivered'])
        t.true(lines.some(l => l.includes('Mongoose handler failed: Error: sub handler bug')), lines.join('\n'))
        t.true(lines.some(l => l.includes('global handler bug')), lines.join('\n'))
        yield* ioAgentStop(mgos_mqtt_agent()!)
    })
    mgos_mqtt_reset()
})

test.serial('promise facade: connect by URL, one SUBSCRIBE for several filters, a DISCONNECT awaited until closed', async t => {
    const mq = mqttAlloc(clientId('promise-url'), null)!
    t.is(await mqttConnectUrlAsync(mq, `mqtt://127.0.0.1:${broker.port}`, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK), 0)
    const got: string[] = []
    const granted: number[] = []
    t.is(await mqttSubscribeMultiAsync(mq, [
        { topic: 'pm/a', qos: 1, callback: (rp: MqttRecv) => { got.push(rp.text) } },
        { topic: 'pm/b/#', qos: 2, callback: async (rp: MqttRecv) => { got.push(rp.text) } },
    ], MQTT_WAIT_ACK, granted), 0)
    t.deepEqual(granted, [1, 2])
    await mqttPublishAsync(mq, 'one', 0, 1, MQTT_WAIT_ACK, 'pm/a')
    await mqttPublishAsync(mq, 'two', 0, 2, MQTT_WAIT_ACK, 'pm/b/c')
    await inFiber(function* () { yield* until(() => got.length === 2, 3000) })
    t.deepEqual(got.sort(), ['one', 'two'])
    t.is(await mqttDisconnectAsync(mq), 0)
    t.false(mq.processing)
    rCloseSocket(mq.sock)
})

test.serial('Mongoose events: SUBACK to a subscription\'s handler, PUBACK with the packet id mgos_mqtt_pub returned; len 0 sends an empty message', async t => {
    mgos_mqtt_reset()
    t.true(mgos_mqtt_init({ mqtt: { server: `127.0.0.1:${broker.port}`, client_id: clientId('mgev'), reconnect_timeout_min: 0.05 } }))
    await inFiber(function* () {
        const events: string[] = []
        const got: string[] = []
        mgos_mqtt_add_global_handler((_c, ev, data) => { if (ev === MG_EV_MQTT_PUBACK) events.push(`puback ${(data as { message_id: number }).message_id}`) })
        t.true(yield* until(() => mgos_mqtt_global_is_connected()))
        mgos_mqtt_global_subscribe('mgev/#', (_c, ev, data) => {
            if (ev === MG_EV_MQTT_SUBACK) events.push(`suback ${(data as { topic: string }).topic}`)
            if (ev === MG_EV_MQTT_PUBLISH) got.push(`[${(data as { payload: string }).payload}]`)
        })
        t.true(yield* until(() => events.includes('suback mgev/#')), events.join())
        const id = mgos_mqtt_pub('mgev/a', 'hello', 5, 1, false)
        t.true(id > 0)
        t.true(yield* until(() => events.includes(`puback ${id}`)), events.join())
        t.true(mgos_mqtt_pub('mgev/b', 'ignored', 0, 0, false) > 0)
        t.true(yield* until(() => got.length === 2))
        t.deepEqual(got, ['[hello]', '[]'])
        yield* ioAgentStop(mgos_mqtt_agent()!)
    })
    mgos_mqtt_reset()
})
