/*
    The coordination of a run of several processes, carried by MQTT itself (the broker under test, or the
    one --control names), under fiber-mqtt/bench/<run>/:
        plan            retained, from the coordinator: the bench command line and how many members it waits for
        join            each member says it is there (its id)
        start           from the coordinator: the start time and the members in order (index 0: the coordinator)
        tick/<index>    each member's merged figures, once a second
        final/<index>   each member's whole series, at its end
        stop            from the coordinator: stop now (Ctrl-C, or the subscribers' limit reached)
    Messages are JSON; what comes from another process is checked before it is used.
 */
import {
    mqttAlloc, mqttConnectUrl, mqttDisconnect, mqttFree, mqttGetError, mqttPublish, mqttPublishRetained, mqttSetConnectTimeout,
    mqttSetCredentials, mqttSubscribe, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK, type Mqtt, type MqttRecv,
} from '../../mqtt/index.js'
import { rCloseSocket, rSetSocketCerts, rSetTlsHostCheck } from '../../socket/index.js'
import type { Fiber } from '../../runtime/index.js'
import { CliError } from '../connect.js'

export interface ControlTarget {
    /** A URL, or null for host and port */
    url: string | null
    host: string
    port: number
    tls: boolean
    cafile: string | null
    insecure: boolean
    username: string | null
    password: string | null
}

export function base(run: string): string {
    return `fiber-mqtt/bench/${run}/`
}

export class Control {
    private constructor(readonly mq: Mqtt, readonly prefix: string) {}

    static *open(target: ControlTarget, run: string, id: string): Fiber<Control> {
        const mq = mqttAlloc(id, null)
        if (mq === null) {
            throw new CliError(`Error: Bad control client id '${id}'.`)
        }
        mqttSetConnectTimeout(mq, 10_000)
        const url = target.url ?? `${target.tls ? 'mqtts' : 'mqtt'}://${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`
        if (target.url === null && target.username !== null) {
            mqttSetCredentials(mq, target.username.replace(/%i/g, 'control'), target.password)
        }
        const rc = yield* mqttConnectUrl(mq, url, MQTT_CONNECT_CLEAN_SESSION, MQTT_WAIT_ACK, sock => {
            if (target.url === null && target.tls) {
                rSetSocketCerts(sock, target.cafile, null, null, null)
                if (target.insecure) rSetTlsHostCheck(sock, false)
            }
        })
        if (rc !== 0) {
            const why = mqttGetError(mq)
            yield* mqttFree(mq)
            throw new CliError(`Error: Cannot reach the control broker: ${why || `error ${rc}`}`)
        }
        return new Control(mq, base(run))
    }

    /** Subscribe to a topic under the run; each message's JSON (or null for an empty or broken one) goes to cb. */
    *on(topic: string, cb: (value: unknown, topic: string) => void): Fiber<void> {
        const rc = yield* mqttSubscribe(this.mq, (rp: MqttRecv) => {
            let value: unknown = null
            if (rp.dataSize > 0) {
                try {
                    value = JSON.parse(rp.text)
                } catch {
                    value = null
                }
            }
            cb(value, rp.topic.slice(this.prefix.length))
        }, 1, MQTT_WAIT_ACK, this.prefix + topic)
        if (rc < 0) {
            throw new CliError(`Error: Cannot subscribe to the run's ${topic}: ${mqttGetError(this.mq)}`)
        }
    }

    *send(topic: string, value: unknown, retain = false): Fiber<number> {
        const text = value === null ? '' : JSON.stringify(value)
        const publish = retain ? mqttPublishRetained : mqttPublish
        return yield* publish(this.mq, text, 0, 1, MQTT_WAIT_ACK, this.prefix + topic)
    }

    *close(): Fiber<void> {
        mqttDisconnect(this.mq)
        const sock = this.mq.sock
        yield* mqttFree(this.mq)
        rCloseSocket(sock)
    }
}
