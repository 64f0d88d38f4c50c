/*
    Ioto's MQTT sample and the MQTT page's quick tour, ported line for line. In C the agent supplies
    ioto->mqtt; here a small main() makes the connection first (the agent does it for real in agent examples).

        node dist/examples/ioto-mqtt.js          (embedded broker; or MQTT_BROKER=host:port)
 */
import {
    mqttAlloc, mqttConnect, mqttGetError, mqttPublish, mqttSubscribe, mqttUnsubscribe, rAllocSocket, rConnectSocket,
    rError, rInfo, rInit, rServiceEvents, rSleep, rStop, rTerm, MQTT_QOS_1, MQTT_WAIT_ACK, MQTT_WAIT_NONE, type Fiber,
    type Mqtt, type MqttResp,
} from '../index.js'
import { endpoint } from './lib/endpoint.js'

const ioto: { mqtt: Mqtt | null } = { mqtt: null }
const broker = await endpoint()

/*  C:  PUBLIC int ioStart(void) */
function* ioStart(): Fiber<number> {
    /*
        Subscribe for incoming notifications.
        This call will block and wait for acknowledgement. The call blocks, but the process does not.
     */
    yield* mqttSubscribe(ioto.mqtt, incoming, 2, MQTT_WAIT_ACK, '/myDevice/change')

    /* Publish an "initialized" message with quality of service 1 (at least once). Don't wait. */
    yield* mqttPublish(ioto.mqtt, 'Initialized', 0, 1, MQTT_WAIT_NONE, '/myDevice/init')

    /* The quick tour's form of the same calls */
    yield* mqttSubscribe(ioto.mqtt, incoming, MQTT_QOS_1, MQTT_WAIT_NONE, 'myDevice/change')
    yield* mqttPublish(ioto.mqtt, 'Initialized', 0, MQTT_QOS_1, MQTT_WAIT_ACK, 'myDevice/init')

    /* Something to receive: publish a change to ourselves */
    yield* mqttPublish(ioto.mqtt, 'blue', 0, MQTT_QOS_1, MQTT_WAIT_ACK, 'myDevice/change')

    /* Unsubscribe from receiving further messages */
    yield* mqttUnsubscribe(ioto.mqtt, '/myDevice/unsub', MQTT_WAIT_NONE)
    yield* mqttUnsubscribe(ioto.mqtt, 'myDevice/unsub', MQTT_WAIT_NONE)
    return 0
}

/*  C:  static void incoming(MqttResp *rp) */
function incoming(rp: MqttResp): void {
    rInfo('shadow', 'Received from topic %s: %s', rp.topic, rp.text)
    received++
}

let received = 0

function* main(): Fiber<void> {
    /* The seed pages' form binds the connected socket at allocation: mqttAlloc(sock, "my-client-id", NULL) */
    const sock = rAllocSocket()
    if ((yield* rConnectSocket(sock, broker.host, broker.port, 0)) !== 0) {
        rError('sample', 'Cannot reach the broker at %s:%d', broker.host, broker.port)
        rStop()
        return
    }
    const mq = mqttAlloc(sock, 'my-client-id', null)!
    if ((yield* mqttConnect(mq, null, null, 0x2, MQTT_WAIT_ACK)) !== 0) {
        rError('sample', 'Cannot connect: %s', mqttGetError(mq))
        rStop()
        return
    }
    ioto.mqtt = mq
    yield* ioStart()
    /* Give the change message time to come back */
    for (let i = 0; i < 100 && received < 1; i++) {
        yield* rSleep(10)
    }
    rInfo('sample', 'done: %d message(s) received', received)
    /* Exit sample */
    rStop()
}

rInit(main, null)
await rServiceEvents()
rTerm()
await broker.stop()
