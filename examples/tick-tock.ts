/*
    The tick-tock client of "Getting started with MQTT" (written there with libmosquitto), on fiber-mqtt.
    It subscribes to "tick", "control/<pid>" and "control/all"; on every tick it publishes its process id and
    uptime in seconds to "tock/<pid>"; "halt" on either control topic makes it disconnect, free and exit.

        node dist/examples/tick-tock.js [host] [port]      (default localhost 1883, or MQTT_BROKER=host:port)

    Drive it with the walk-through's commands:
        while true; do echo tick; sleep 1; done | mosquitto_pub -l -t tick
        mosquitto_sub -t 'tock/#'
 */
import {
    mqttAlloc, mqttConnect, mqttDisconnect, mqttFree, mqttGetError, mqttPublish, mqttSetKeepAlive, mqttSubscribe, rAllocSocket, rSleep, Wait,
    rCloseSocket, rConnectSocket, rError, rGetSocketError, rGetTicks, rInfo, rInit, rServiceEvents, rStop, rTerm,
    MQTT_CONNECT_CLEAN_SESSION, MQTT_EVENT_DISCONNECT, MQTT_WAIT_ACK, MQTT_WAIT_NONE, TPS, type Fiber, type Mqtt, type MqttRecv,
} from '../index.js'

const named = process.env.MQTT_BROKER?.split(':')
const host = process.argv[2] ?? named?.[0] ?? 'localhost'
const port = Number(process.argv[3] ?? named?.[1] ?? 1883)
const started = rGetTicks()
const pid = process.pid

function* onTick(rp: MqttRecv): Fiber<void> {
    const uptime = Math.floor((rGetTicks() - started) / 1000)
    yield* mqttPublish(rp.mq, `${pid} ${uptime}`, 0, 0, MQTT_WAIT_NONE, 'tock/%d', pid)
}

let halted = false

function* onControl(rp: MqttRecv): Fiber<void> {
    if (rp.text === 'halt') {
        rInfo('tick-tock', 'halt received on %s', rp.topic)
        halted = true
        mqttDisconnect(rp.mq)
        yield* mqttFree(rp.mq)
        rCloseSocket(rp.mq.sock)
        rStop()
    }
}

/* As the libmosquitto client's on_connect: subscribe on every connection */
function* onConnect(mq: Mqtt): Fiber<void> {
    yield* mqttSubscribe(mq, onTick, 0, MQTT_WAIT_ACK, 'tick')
    yield* mqttSubscribe(mq, onControl, 0, MQTT_WAIT_ACK, 'control/%d', pid)
    yield* mqttSubscribe(mq, onControl, 0, MQTT_WAIT_ACK, 'control/all')
}

/* Connect the socket and MQTT: 0, or why not (logged) */
function* connect(mq: Mqtt): Fiber<number> {
    const sock = rAllocSocket()
    if ((yield* rConnectSocket(sock, host, port, 0)) !== 0) {
        rError('tick-tock', 'Cannot connect to %s:%d: %s', host, port, rGetSocketError(sock))
        return -1
    }
    if ((yield* mqttConnect(mq, sock, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK)) !== 0) {
        rError('tick-tock', 'MQTT connect failed: %s', mqttGetError(mq))
        rCloseSocket(sock)
        return -1
    }
    return 0
}

function* main(): Fiber<void> {
    /* As the libmosquitto client: no id of its own (mosquitto_new(NULL, true, ...): the broker assigns one, with a
       clean session) and a keep-alive of 60 s (mosquitto_connect(mosq, host, port, 60)) */
    let lost = new Wait<number>()
    const mq = mqttAlloc('', (_mq, event) => {
        /* The connection held was lost (a failed attempt to make a new one is not a loss: it is retried) */
        if (event === MQTT_EVENT_DISCONNECT && !lost.settled) lost.settle(0)
    })!
    mqttSetKeepAlive(mq, 60 * TPS)
    /* The first connection must work (mosquitto_connect's error ends the program) */
    if ((yield* connect(mq)) !== 0) {
        process.exitCode = 1
        rStop()
        return
    }
    yield* onConnect(mq)
    rInfo('tick-tock', 'ready: pid %d', pid)
    /* mosquitto_loop_forever: a lost connection is made again, every second, and on_connect subscribes */
    for (;;) {
        yield* lost
        if (halted) {
            return
        }
        rCloseSocket(mq.sock)
        while (!halted && (yield* connect(mq)) !== 0) {
            yield* rSleep(1000)
        }
        /* From here on, a loss is this new connection's */
        lost = new Wait<number>()
        if (!halted) {
            yield* onConnect(mq)
        }
    }
}

rInit(main, null)
await rServiceEvents()
rTerm()
