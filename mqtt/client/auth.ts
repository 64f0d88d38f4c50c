/*
    MQTT 5.0 enhanced authentication after CONNECT [MQTT5-4.12]: the broker's AUTH challenges answered by the
    app's proc (mqttSetAuth), and re-authentication started by the client on a live connection
    (mqttReauthenticate): AUTH "Re-authenticate" with the method of the CONNECT, the same challenges, then the
    broker's AUTH "Success" or a DISCONNECT that ends the connection.
 */
import { R_ERR_BAD_ARGS, R_ERR_BAD_RESPONSE, R_ERR_BAD_STATE, R_ERR_BUSY, R_ERR_CANT_CONNECT, R_ERR_NOT_CONNECTED, R_ERR_TIMEOUT } from '../../runtime/errors.js'
import { startTimer } from '../../runtime/events.js'
import type { Waitable } from '../../runtime/body.js'
import { done } from '../../runtime/waitable.js'
import { encode5 } from '../codec/encode5.js'
import type { Properties } from '../codec/properties.js'
import { reasonName } from '../codec/reasons.js'
import { fatal } from './link.js'
import { Mqtt, MQTT_WAIT_ACK, MQTT_WAIT_SENT, MqttWait, setMsg } from './state.js'
import type { Mqtt5State } from './protocol5.js'
import { flush, waitSent, writeBytes } from './wire.js'

const CONTINUE = 0x18
const REAUTHENTICATE = 0x19

/** @internal An AUTH from the server: a challenge the app's proc answers (Continue authentication), or the end of a re-authentication. */
export function authenticate(mq: Mqtt, v5: Mqtt5State, code: number, props: Properties): void {
    const method = v5.connect.authenticationMethod
    if (method === undefined || (v5.authProc === null && code !== 0x00)) {
        fatal(mq, R_ERR_BAD_RESPONSE, 'AUTH from the broker: no enhanced authentication was asked for [MQTT5-4.12]')
        return
    }
    if (props.authenticationMethod !== method) {
        fatal(mq, R_ERR_BAD_RESPONSE, `AUTH from the broker with method "${props.authenticationMethod ?? ''}", not "${method}" [MQTT5-4.12]`)
        return
    }
    if (code === 0x00) {
        /* Success: the end of a re-authentication (one nobody started is harmless) */
        v5.endReauth(0)
        return
    }
    if (code !== CONTINUE) {
        fatal(mq, R_ERR_BAD_RESPONSE, `AUTH from the broker with ${reasonName(code)} (0x${code.toString(16)}) [MQTT5-3.15.2.1]`)
        return
    }
    let answer: Uint8Array | null
    try {
        answer = v5.authProc!(mq, props.authenticationData ?? null)
    } catch (err) {
        fatal(mq, R_ERR_BAD_STATE, `The authentication proc failed: ${err instanceof Error ? err.message : String(err)}`)
        return
    }
    if (!(answer instanceof Uint8Array)) {
        fatal(mq, R_ERR_CANT_CONNECT, 'Authentication given up: the proc had no answer to the broker\'s challenge')
        return
    }
    writeBytes(mq, encode5({ type: 15, reasonCode: CONTINUE, properties: { authenticationMethod: method, authenticationData: answer } }))
}

/**
    MQTT 5: authenticate again on a live connection [MQTT5-4.12.1]: AUTH "Re-authenticate" with the CONNECT's
    method and `data`; the broker's challenges go to the proc of mqttSetAuth. With MQTT_WAIT_ACK the call
    evaluates to 0 on the broker's "Success", or, when the broker refuses (it then disconnects), the error of the
    lost connection with its words (mqttGetError); R_ERR_TIMEOUT when no answer comes within the connect
    timeout (the connection stays). R_ERR_BAD_ARGS without enhanced authentication at connect (mqttSetAuth),
    R_ERR_NOT_CONNECTED when not connected, R_ERR_BUSY while another is under way.
    @example if ((yield* mqttReauthenticate(mq, freshToken, MQTT_WAIT_ACK)) !== 0) rError('app', '%s', mqttGetError(mq))
 */
export function mqttReauthenticate(mq: Mqtt | null, data: Uint8Array | null, waitFlags: number): Waitable<number> {
    if (!(mq instanceof Mqtt)) {
        return done(R_ERR_BAD_ARGS)
    }
    const v5 = mq.cfg.v5
    const method = v5?.connect.authenticationMethod
    if (v5 === null || method === undefined) {
        return done(setMsg(mq, R_ERR_BAD_ARGS, 'Re-authentication needs enhanced authentication at connect: mqttSetAuth first [MQTT-4.12.1-1]'))
    }
    if (data !== null && !(data instanceof Uint8Array)) {
        return done(setMsg(mq, R_ERR_BAD_ARGS, 'Authentication data must be bytes (or null)'))
    }
    if (!mq.connected || !mq.processing) {
        return done(setMsg(mq, R_ERR_NOT_CONNECTED, 'Not connected'))
    }
    if (v5.reauth !== null) {
        return done(setMsg(mq, R_ERR_BUSY, 'A re-authentication is already under way'))
    }
    const properties: Properties = { authenticationMethod: method }
    if (data !== null) {
        properties.authenticationData = data
    }
    writeBytes(mq, encode5({ type: 15, reasonCode: REAUTHENTICATE, properties }))
    if (!(waitFlags & (MQTT_WAIT_ACK | MQTT_WAIT_SENT))) {
        flush(mq)
        return done(0)
    }
    const w = new MqttWait()
    if (!(waitFlags & MQTT_WAIT_ACK)) {
        /* Settled by the flush that hands these bytes to the socket */
        waitSent(mq, w)
        flush(mq)
        return w
    }
    flush(mq)
    v5.reauth = w
    v5.reauthTimer = startTimer(() => {
        setMsg(mq, R_ERR_TIMEOUT, `No answer to re-authentication within ${mq.cfg.connectTimeout / 1000} s`)
        v5.endReauth(R_ERR_TIMEOUT)
    }, null, mq.cfg.connectTimeout)
    return w
}
