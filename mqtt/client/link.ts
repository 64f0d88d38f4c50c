/*
    The connection's end: every loss (peer closed, I/O error, protocol violation, dead keep-alive, refused
    CONNACK) goes through connectionLost once. The error is recorded (sticky until the next connect), waiters
    are told, the socket is shut down and MQTT_EVENT_DISCONNECT is raised.
 */
import { R_ERR_CANT_CONNECT, R_ERR_NOT_CONNECTED } from '../../runtime/errors.js'
import { stopTimer } from '../../runtime/events.js'
import { isBody, rCallback, rSpawnCallback } from '../../runtime/callback.js'
import { rTrace } from '../../runtime/log.js'
import { R_STOPPING, rGetState } from '../../runtime/lifecycle.js'
import { rDisconnectSocket } from '../../socket/control.js'
import { MQTT_EVENT_DISCONNECT, type Mqtt } from './state.js'
import { failWaiters } from './session.js'
import { detachLink } from './wire.js'

/** Record a connection error: the code stays until the next mqttConnect; the first message of a loss is kept. */
export function setError(mq: Mqtt, code: number, msg: string): number {
    if (mq.error === 0) {
        mq.error = code
        mq.errorMsg = msg
    }
    return code
}

/** The broker refused the connection: the error, the end of the link, the connect call told. */
export function refused(mq: Mqtt, code: number, message: string): void {
    stopTimer(mq.connectTimer)
    mq.connectTimer = null
    const w = mq.connectWait
    mq.connectWait = null
    setError(mq, code, message)
    fatal(mq, code, mq.errorMsg)
    w?.settle(code)
}

/** A fatal condition: record it and end the connection. */
export function fatal(mq: Mqtt, code: number, msg: string): number {
    rTrace('mqtt', '%s', msg)
    setError(mq, code, msg)
    connectionLost(mq, code, msg)
    return code
}

/** End the connection (once): tell every waiter, shut the socket down, raise MQTT_EVENT_DISCONNECT. */
export function connectionLost(mq: Mqtt, code: number, reason: string): void {
    if (!mq.processing) {
        return
    }
    detachLink(mq)
    mq.connected = false
    stopTimer(mq.keepAliveEvent)
    mq.keepAliveEvent = null
    stopTimer(mq.connectTimer)
    mq.connectTimer = null
    stopTimer(mq.refillTimer)
    mq.refillTimer = null
    if (!mq.disconnecting) {
        setError(mq, code < 0 ? code : R_ERR_NOT_CONNECTED, reason)
    }
    rDisconnectSocket(mq.sock)
    const connecting = mq.connectWait
    mq.connectWait = null
    failWaiters(mq, R_ERR_NOT_CONNECTED)
    mq.cfg.v5?.endReauth(mq.error || R_ERR_NOT_CONNECTED)
    connecting?.settle(mq.error || R_ERR_CANT_CONNECT)
    const disconnected = mq.disconnectWait
    mq.disconnectWait = null
    disconnected?.settle(0)
    if (rGetState() <= R_STOPPING) {
        notify(mq, MQTT_EVENT_DISCONNECT)
    }
}

/** Call the event proc: plain functions inline, generator functions on a fiber of their own. */
export function notify(mq: Mqtt, event: number): void {
    const proc = mq.proc
    if (proc === null) {
        return
    }
    const r = rCallback('mqtt', `Event proc on event ${event}`, proc, mq, event)
    if (isBody(r)) {
        rSpawnCallback('mqtt-event', r)
    }
}
