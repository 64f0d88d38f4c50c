/*
    Ioto's MQTT sample and the MQTT page's quick tour, ported line for line onto the agent: as in Ioto, the agent
    makes the connection and gives the app ioto.mqtt, and ioStart runs once it is up. Only the mechanical
    changes of a port differ from the C (yield* before calls that can wait, '.' for '->', TypeScript types);
    the C lines are kept above each call.

        LOG_FILTER=stderr:error,info,trace:all node dist/examples/ioto-mqtt.js    (embedded broker; or MQTT_BROKER=host:port)
 */
import {
    ioAgent, ioAgentStop, ioto, mqttPublish, mqttSubscribe, mqttUnsubscribe, rInfo, rInit, rServiceEvents, rSleep, rStop,
    rTerm, rTrace, MQTT_QOS_1, MQTT_WAIT_ACK, MQTT_WAIT_NONE, type Agent, type Fiber, type MqttResp,
} from '../index.js'
import { endpoint } from './lib/endpoint.js'

const broker = await endpoint()
let received = 0

/*  C:  PUBLIC int ioStart(void) */
function* ioStart(): Fiber<number> {
    /*
        Subscribe for incoming notifications.
        This call will block and wait for acknowledgement. The call blocks, but the process does not.
        C:  mqttSubscribe(ioto->mqtt, incoming, 2, MQTT_WAIT_ACK, "/myDevice/change");
     */
    yield* mqttSubscribe(ioto.mqtt, incoming, 2, MQTT_WAIT_ACK, '/myDevice/change')

    /*
        Publish an "initialized" message with quality of service 1 (at least once). Don't wait.
        C:  mqttPublish(ioto->mqtt, "Initialized", 0, 1, MQTT_WAIT_NONE, "/myDevice/init");
     */
    yield* mqttPublish(ioto.mqtt, 'Initialized', 0, 1, MQTT_WAIT_NONE, '/myDevice/init')

    /*  The quick tour:  mqttSubscribe(agent->mqtt, incoming, MQTT_QOS_1, MQTT_WAIT_NONE, "myDevice/change"); */
    yield* mqttSubscribe(ioto.mqtt, incoming, MQTT_QOS_1, MQTT_WAIT_NONE, 'myDevice/change')
    /*  mqttPublish(agent->mqtt, "Initialized", 0, MQTT_QOS_1, MQTT_WAIT_NONE, "myDevice/init"); */
    yield* mqttPublish(ioto.mqtt, 'Initialized', 0, MQTT_QOS_1, MQTT_WAIT_NONE, 'myDevice/init')

    /* Not in the C: something to receive, a change published to ourselves */
    yield* mqttPublish(ioto.mqtt, 'blue', 0, MQTT_QOS_1, MQTT_WAIT_NONE, 'myDevice/change')

    /*
        Unsubscribe from receiving further messages
        C:  mqttUnsubscribe(ioto->mqtt, "/myDevice/unsub", MQTT_WAIT_NONE);
            mqttUnsubscribe(agent->mqtt, "myDevice/unsub", MQTT_WAIT_NONE);
     */
    yield* mqttUnsubscribe(ioto.mqtt, '/myDevice/unsub', MQTT_WAIT_NONE)
    yield* mqttUnsubscribe(ioto.mqtt, 'myDevice/unsub', MQTT_WAIT_NONE)
    return 0
}

/*
    C:  static void incoming(MqttResp *rp)
            rtrace("shadow", "Received from topic %s: %s", rp->topic, rp->data);
 */
function incoming(rp: MqttResp): void {
    rTrace('shadow', 'Received from topic %s: %s', rp.topic, rp.data)
    received++
}

/* Not in the C (Ioto's main is the agent's): start the agent, wait for the change to come back, stop */
function* main(): Fiber<void> {
    const agent: Agent = ioAgent({ mqtt: { server: `${broker.host}:${broker.port}`, client_id: 'my-client-id' } }, { ioStart })
    for (let i = 0; i < 500 && received < 1; i++) {
        yield* rSleep(10)
    }
    rInfo('sample', 'done: %d message(s) received', received)
    yield* ioAgentStop(agent)
    rStop()
}

rInit(main, null)
await rServiceEvents()
rTerm()
await broker.stop()
