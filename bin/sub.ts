/*
    fiber-mqtt sub: mosquitto_sub's job. Prints each message (-v: "topic message"); -C ends after a count,
    -W after a time (exit code 27, as mosquitto_sub).
 */
import {
    mqttDisconnect, mqttFree, mqttGetError, mqttSubscribe, rCloseSocket, rGetFiber, rResumeFiber, rStartEvent,
    rStopEvent, rYieldFiber, MQTT_WAIT_ACK, type Fiber, type MqttRecv,
} from '../index.js'
import type { Options } from './args.js'
import { CliError, connectCli } from './connect.js'

export function* sub(o: Options): Fiber<number> {
    const { mq, sock } = yield* connectCli(o, 'fiber-mqtt-sub-')
    const me = rGetFiber()!
    let received = 0
    let finished = false
    const finish = (code: number) => {
        if (!finished) {
            finished = true
            rResumeFiber(me, code)
        }
    }
    const print = (rp: MqttRecv) => {
        if (finished || (o.noRetained && rp.retain)) {
            return
        }
        const body = Buffer.from(rp.data.buffer, rp.data.byteOffset, rp.data.length)
        process.stdout.write(o.verbose ? Buffer.concat([Buffer.from(`${rp.topic} `), body]) : body)
        if (!o.noNewline) {
            process.stdout.write('\n')
        }
        if (o.count > 0 && ++received >= o.count) {
            finish(0)
        }
    }
    for (const topic of o.topics) {
        const rc = yield* mqttSubscribe(mq, print, o.qos, MQTT_WAIT_ACK, '%s', topic)
        if (rc !== 0) {
            throw new CliError(`Error: Subscribe to '${topic}' failed: ${mqttGetError(mq)}`)
        }
    }
    const timer = o.timeout > 0 ? rStartEvent(() => finish(27), null, o.timeout * 1000) : 0
    mq.proc = (_mq, event) => {
        if (event === 3) {
            finish(-1)
        }
    }
    const code = (yield* rYieldFiber()) as number
    rStopEvent(timer)
    mqttDisconnect(mq)
    yield* mqttFree(mq)
    rCloseSocket(sock)
    if (code === 27) {
        process.stderr.write('Timed out\n')
    } else if (code === -1) {
        throw new CliError(`Error: The connection was lost: ${mqttGetError(mq)}`)
    }
    return code
}
