import test from 'ava'
import { rGetTicks, rSleep } from '../../runtime/index.js'
import {
    MQTT, mgos_mqtt_add_global_handler, mgos_mqtt_agent, mgos_mqtt_get_global_conn, mgos_mqtt_get_packet_id,
    mgos_mqtt_global_connect, mgos_mqtt_global_disconnect, mgos_mqtt_global_is_connected, mgos_mqtt_global_subscribe,
    mgos_mqtt_init, mgos_mqtt_num_unsent_bytes, mgos_mqtt_pub, mgos_mqtt_pubf, mgos_mqtt_reset, mgos_mqtt_set_max_qos,
    mgos_mqtt_sub, jsonPrintf, MG_EV_MQTT_CONNACK, MG_EV_MQTT_PUBLISH, MG_EV_CLOSE,
} from '../../mqtt/mongoose.js'
import { ioAgentStop } from '../../mqtt/agent/index.js'
import {
    mqttAlloc, mqttConnectAsync, mqttFreeAsync, mqttMessages, mqttPingAsync, mqttPublishAsync, mqttRequestAsync,
    mqttSubscribeAsync, mqttUnsubscribeAsync, rAllocSocket, rCloseSocket, rConnectSocketAsync, rReadSocketAsync,
    rWriteSocketAsync, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK, MQTT_WAIT_NONE, type MqttRecv,
} from '../../index.js'
import { startAedes, type Broker } from '../../examples/lib/broker.js'
import { inFiber } from '../helpers/fiber.js'
import { clientId } from '../helpers/client.js'
import { until } from './suite.js'

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
        const id = mgos_mqtt_pub('mg/a', 'hello', 0, 1, false)
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
        mgos_mqtt_pub('mg/q', 'down', 0, 1, false)
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
    await new Promise(r => setTimeout(r, 200))
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
