/*
    fiber-mqtt sub: mosquitto_sub's job. Subscribes (all filters in one SUBSCRIBE), prints each message
    (payload; -v "topic payload"; -F a format) and stays: a lost connection is made again (a -c session keeps
    what the broker queued meanwhile). Ends after -C messages (0), -W seconds (27, "Timed out"), -E once
    subscribed, --retained-only at the first message that is not retained, or a refusal (its exit code).
 */
import { rSleep, rStartEvent, rStopEvent, Wait, type Fiber } from '../runtime/index.js'
import { rCloseSocket, type RSocket } from '../socket/index.js'
import {
    mqttFree, mqttGetError, mqttIsConnected, mqttPublishRetained, mqttSubscribeMulti, mqttUnsubscribeEx, topicMatches,
    MQTT_EVENT_DISCONNECT, MQTT_WAIT_ACK, MQTT_WAIT_NONE, type MqttRecv, type SubscribeOptions,
} from '../mqtt/index.js'
import type { Options } from './args.js'
import { CliError, cliClient, connectCli, disconnectCli } from './connect.js'
import { formatMessage } from './format.js'
import { ownConfig } from '../mqtt/client/config.js'
import { OUT_SUB } from '../mqtt/client/state.js'

/** What the loop waits for: the end (an exit code) or a lost connection */
type Wake = { end: number } | 'lost'

/** The output of one message (without the end of line). */
export function render(o: Options, rp: MqttRecv): Buffer {
    if (o.format !== null) {
        return formatMessage(o.format, rp, o.pretty)
    }
    const body = rp.dataSize === 0 && o.verbose ? Buffer.from('(null)') : Buffer.from(rp.data.buffer, rp.data.byteOffset, rp.data.length)
    return o.verbose ? Buffer.concat([Buffer.from(`${rp.topic} `), body]) : body
}

/* MQTT 5: -R asks the broker not to send retained messages, --retain-as-published keeps their flag, -D subscribe
   gives the subscription identifier and user properties */
function subscribeOptions(o: Options): SubscribeOptions | null {
    if (o.protocol !== 5) {
        return null
    }
    const { subscriptionIdentifiers, userProperties } = o.properties.subscribe
    return {
        retainHandling: o.noRetained ? 2 : 0, retainAsPublished: o.retainAsPublished,
        subscriptionIdentifier: subscriptionIdentifiers?.[0], userProperties,
    }
}

export function* sub(o: Options): Fiber<number> {
    const mq = cliClient(o)
    let wake = new Wait<Wake>()
    let ended: number | null = null
    let received = 0
    /* -E: mosquitto_sub disconnects on the SUBACK and reads nothing after it, not even what came in the same read.
       Here the rest of that read is decoded before the fiber that ends wakes: from the SUBACK on, neither a
       message nor a received packet's trace line is printed */
    let subscribing = false
    const subscribedAll = (): boolean => o.exitAfterSubscribe && subscribing && ![...mq.inflight.values()].some(m => m.type === OUT_SUB)
    if (o.exitAfterSubscribe && o.debug) {
        const cfg = ownConfig(mq)
        const trace = cfg.tracer!
        cfg.tracer = (direction, p) => {
            if (direction === 'sending' || !subscribedAll()) {
                trace(direction, p)
            }
        }
    }
    const end = (code: number): void => {
        if (ended === null) {
            ended = code
            wake.settle({ end: code })
            if (mq.sock !== null && !mq.connected) {
                /* Ended while connecting (-W): stop waiting for the CONNACK */
                rCloseSocket(mq.sock)
            }
        }
    }
    const print = (rp: MqttRecv): void => {
        if (ended !== null || subscribedAll() || o.filterOut.some(f => topicMatches(f, rp.topic))) {
            return
        }
        if (o.retainedOnly && !rp.retain) {
            end(0)
            return
        }
        if (o.removeRetained && rp.retain && rp.dataSize > 0) {
            /* Clear it: an empty retained message on its topic */
            void mqttPublishRetained(mq, '', 0, 0, MQTT_WAIT_NONE, '%s', rp.topic)
        }
        if ((o.noRetained && rp.retain) || (o.randomFilter < 100 && Math.random() * 100 >= o.randomFilter)) {
            return
        }
        /* An empty message prints nothing at all, unless -v or -F say what to print (as mosquitto_sub) */
        const silent = rp.dataSize === 0 && !o.verbose && o.format === null
        const out = silent ? Buffer.alloc(0) : o.noNewline ? render(o, rp) : Buffer.concat([render(o, rp), Buffer.from('\n')])
        if (o.debug) {
            /* After the acknowledgement's trace line, as mosquitto_sub prints them (the ack is written first) */
            queueMicrotask(() => process.stdout.write(out))
        } else {
            process.stdout.write(out)
        }
        if (o.count > 0 && ++received >= o.count) {
            end(0)
        }
    }
    mq.proc = (_mq, event) => {
        if (event === MQTT_EVENT_DISCONNECT) {
            wake.settle('lost')
        }
    }
    const timer = o.timeout > 0 ? rStartEvent(() => end(27), null, o.timeout * 1000) : 0
    let sock: RSocket | null = null
    let first = true
    try {
        while (ended === null) {
            wake = new Wait<Wake>()
            try {
                sock = yield* connectCli(o, mq)
            } catch (err) {
                if (ended !== null) {
                    break
                }
                /* The first attempt's failure is the answer; later ones (the broker restarting) are retried */
                if (first || !(err instanceof CliError) || (err.code >= 2 && err.code <= 5)) {
                    throw err
                }
                yield* rSleep(1000)
                continue
            }
            if (first) {
                first = false
                /* SUBSCRIBE and UNSUBSCRIBE go out together (both calls act at once); then the SUBACK is awaited */
                const granted: number[] = []
                const subscribed = o.topics.length > 0 ?
                    mqttSubscribeMulti(mq, o.topics.map(topic => ({ topic, qos: o.qos, callback: print, options: subscribeOptions(o) })), MQTT_WAIT_ACK, granted) : null
                subscribing = subscribed !== null
                /* As mosquitto_sub: one UNSUBSCRIBE per filter, each with -D unsubscribe's properties */
                for (const topic of o.unsubscribe) {
                    void mqttUnsubscribeEx(mq, topic, MQTT_WAIT_NONE, o.properties.unsubscribe)
                }
                const rc = subscribed === null ? 0 : yield* subscribed
                if (rc !== 0 && !granted.includes(0x80) && ended === null) {
                    throw new CliError(`Error: Subscribe failed: ${mqttGetError(mq)}`)
                }
                if (o.exitAfterSubscribe) {
                    end(0)
                }
            }
            const why = yield* wake
            if (why === 'lost' && ended === null) {
                rCloseSocket(sock)
                sock = null
                yield* rSleep(1000)
            }
        }
    } finally {
        rStopEvent(timer)
        if (sock !== null && mqttIsConnected(mq)) {
            /* As mosquitto_sub: DISCONNECT, then close (what the broker sends after it is not read) */
            disconnectCli(mq, o)
            mq.trace = false
        }
        yield* mqttFree(mq)
        rCloseSocket(sock)
    }
    if (ended === 27) {
        process.stderr.write('Timed out\n')
    }
    return ended ?? 0
}
