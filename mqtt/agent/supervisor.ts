/*
    The agent's supervisor: one fiber owns the whole connection lifecycle. Connect (each server as itself), hold
    the configured subscriptions, wait for the link to drop (or probe the primary while on the backup), back off,
    fail over, reconnect; every attempt is recorded with its reason.
 */
import { R_ERR_CANT_CONNECT } from '../../runtime/errors.js'
import { startTimer, stopTimer } from '../../runtime/events.js'
import { rError, rInfo } from '../../runtime/log.js'
import { allocFiber, schedule } from '../../runtime/scheduler.js'
import type { Fiber, Waitable } from '../../runtime/body.js'
import { rGetTicks } from '../../runtime/time.js'
import { rSignal } from '../../runtime/watch.js'
import { rAllocSocket, rCloseSocket, rGetSocketError } from '../../socket/control.js'
import { rConnectSocket } from '../../socket/connect.js'
import { rSetWebSocket } from '../../socket/ws-settings.js'
import { rSetSocketCerts, rSetSocketCiphers, rSetSocketVerify, rSetTlsAlpn, rSetTlsServerName } from '../../socket/tls.js'
import { mqttConnect, mqttDisconnect, mqttFree } from '../client/connect.js'
import { mqttGetError, mqttSetConnectTimeout } from '../client/settings.js'
import { MQTT_EVENT_DISCONNECT, MQTT_EVENT_TIMEOUT, MQTT_WAIT_ACK, MQTT_WAIT_NONE, type Mqtt } from '../client/state.js'
import { mqttSubscribeMasterMulti } from '../client/subscribe.js'
import { MQTT_CONNECT_CLEAN_SESSION } from '../constants.js'
import { WakeWait, type Agent, type Wake } from './state.js'
import { Backoff } from './backoff.js'
import type { ServerConfig } from './config.js'
import { attemptSettings, applySettings } from './identity.js'


/** Wake the supervisor (parked in wakeUp) for a reason; a publish while idle wakes it only when it is idle. */
export function wake(agent: Agent, why: Wake): void {
    const w = agent.wake
    if (w !== null && (why !== 'demand' || agent.idle)) {
        agent.wake = null
        stopTimer(w.timer)
        w.settle(why)
    }
}

export function onEvent(agent: Agent, event: number): void {
    if (event === MQTT_EVENT_DISCONNECT) {
        wake(agent, 'down')
    } else if (event === MQTT_EVENT_TIMEOUT) {
        /* Idle: let the link go; the next publish brings it back */
        agent.idle = true
        drop(agent)
    }
}

/** Wait for a wake-up: the link going down, ioConnect, a publish while idle, stop, or `ms` (0: no timer). */
function wakeUp(agent: Agent, ms: number): Waitable<Wake> {
    const w = new WakeWait()
    agent.wake = w
    if (ms > 0) {
        w.timer = startTimer(fire, w, ms, true)
    }
    return w
}

function fire(w: WakeWait): void {
    w.timer = null
    w.settle('timer')
}

export function* supervise(agent: Agent): Fiber<void> {
    const servers = agent.config.servers
    let backoff = new Backoff(servers[0].reconnectMin, servers[0].reconnectMax)
    let streak = ''
    while (!agent.stopping) {
        while (agent.paused) {
            if ((yield* wakeUp(agent, 0)) === 'stop') {
                stopped(agent)
                return
            }
        }
        if (agent.idle) {
            const why = yield* wakeUp(agent, 0)
            if (why === 'stop') break
            agent.idle = false
        }
        const server = servers[agent.server]
        const rc = yield* attempt(agent, server)
        if (rc === 0) {
            streak = ''
            const since = rGetTicks()
            const why = yield* online(agent)
            if (why === 'stop' || agent.stopping) break
            if (rGetTicks() - since >= agent.config.stableTime) {
                backoff.reset()
            }
            if (agent.server === 0 && why === 'kick') {
                /* Failing back to the primary: go at once */
                continue
            }
        } else {
            const reason = agent.attempts[agent.attempts.length - 1].error
            if (reason !== streak) {
                /* Say why once per streak, not on every attempt */
                rError('mqtt', 'Cannot connect to %s: %s', agent.serverName, reason)
                streak = reason
            }
        }
        if (agent.stopping) break
        let { wait, failover } = backoff.next(servers.length > 1)
        if (failover && servers.length > 1) {
            agent.server = (agent.server + 1) % servers.length
            const next = servers[agent.server]
            backoff = new Backoff(next.reconnectMin, next.reconnectMax)
            rInfo('mqtt', 'Failing over to %s', agent.serverName)
            wait = backoff.next().wait
        }
        const why = yield* wakeUp(agent, wait)
        if (why === 'stop') break
    }
    stopped(agent)
}

/** The agent's end (the supervisor's, or ioAgentStop's when it cancelled the supervisor): free the client, close the store. */
export function stopped(agent: Agent): void {
    void mqttFree(agent.mqtt)
    agent.store?.close()
    agent.stopped.settle(undefined)
}

function record(agent: Agent, began: number, server: ServerConfig, rc: number, error: string): number {
    agent.attempts.push({ began, at: rGetTicks(), server: `${server.host}:${server.port}`, rc, error })
    if (agent.attempts.length > 100) {
        agent.attempts.shift()
    }
    return rc
}

function* attempt(agent: Agent, configured: ServerConfig): Fiber<number> {
    const mq = agent.mqtt
    const began = rGetTicks()
    const server = yield* attemptSettings(agent, agent.hooks.beforeConnect, configured)
    if (typeof server === 'string') {
        return record(agent, began, configured, R_ERR_CANT_CONNECT, server)
    }
    const bad = applySettings(mq, server)
    if (bad !== null) {
        return record(agent, began, server, R_ERR_CANT_CONNECT, bad)
    }
    const moved = redirected(mq, server)
    const sock = rAllocSocket()
    if (server.websocket !== null) {
        rSetWebSocket(sock, server.websocket)
    }
    if (server.tls) {
        rSetSocketCerts(sock, server.tls.ca, server.tls.key, server.tls.cert, null)
        rSetSocketVerify(sock, server.tls.verify, server.tls.verify)
        if (server.tls.alpn) rSetTlsAlpn(sock, server.tls.alpn)
        if (server.tls.ciphers) rSetSocketCiphers(sock, server.tls.ciphers)
        if (server.tls.serverName) rSetTlsServerName(sock, server.tls.serverName)
    }
    /* connect_timeout bounds the whole attempt: TCP, TLS and the CONNACK */
    const deadline = rGetTicks() + agent.config.connectTimeout
    /* The socket is the agent's once connected; on any other way out (a failure, or ioAgentStop cancelling this
       fiber) it is closed here */
    let kept = false
    try {
        let rc = yield* rConnectSocket(sock, moved.host, moved.port, deadline)
        if (rc !== 0) {
            return record(agent, began, moved, rc, rGetSocketError(sock) ?? 'connect failed')
        }
        mqttSetConnectTimeout(mq, Math.max(1, deadline - rGetTicks()))
        rc = yield* mqttConnect(mq, sock, server.cleanSession ? MQTT_CONNECT_CLEAN_SESSION : 0, MQTT_WAIT_ACK)
        if (rc !== 0) {
            /* A refused login backs off like any failure (no hot loop); the reason is CONNACK's */
            return record(agent, began, moved, rc, mqttGetError(mq) || 'MQTT connect failed')
        }
        if (agent.stopping) {
            mqttDisconnect(mq)
            return R_ERR_CANT_CONNECT
        }
        agent.sock = sock
        kept = true
        record(agent, began, moved, 0, '')
        return 0
    } finally {
        if (!kept) {
            rCloseSocket(sock)
        }
    }
}

/* MQTT 5: where the last broker sent us ("use another server", "server moved"), for this attempt only */
function redirected(mq: Mqtt, server: ServerConfig): ServerConfig {
    const v5 = mq.cfg.v5
    const reference = v5?.redirect ?? null
    if (v5 === null || reference === null) {
        return server
    }
    v5.redirect = null
    /* The first of the references, host[:port] (an IPv6 address in brackets) */
    const m = /^\[?([^\]\s]+?)\]?(?::(\d+))?(?:\s|$)/.exec(reference.trim())
    if (m === null) {
        rError('mqtt', 'The broker\'s Server Reference "%s" is not host[:port]: ignored', reference)
        return server
    }
    rInfo('mqtt', 'The broker redirects to %s', reference)
    return { ...server, host: m[1], port: m[2] !== undefined ? Number(m[2]) : server.port }
}

/** Connected: hold the subscriptions, tell the app, stay until the link drops. */
function* online(agent: Agent): Fiber<Wake> {
    const mq = agent.mqtt
    agent.connected = true
    if (agent.everConnected) {
        agent.reconnects++
    }
    agent.everConnected = true
    rInfo('mqtt', 'Connected to mqtt://%s', agent.serverName)
    /* The configured subscriptions not held yet, in one SUBSCRIBE */
    const fresh = agent.config.subscriptions.filter(s => !mq.masterTopics.includes(s.topic))
    if (fresh.length > 0) {
        yield* mqttSubscribeMasterMulti(mq, fresh, MQTT_WAIT_NONE)
    }
    rSignal('mqtt:connected')
    if (!agent.started && agent.hooks.ioStart) {
        agent.started = true
        schedule(allocFiber('ioStart', agent.hooks.ioStart, agent), undefined)
    }
    let why: Wake
    for (;;) {
        const probing = agent.server > 0 && agent.config.failback > 0
        why = yield* wakeUp(agent, probing ? agent.config.failback : 0)
        if (why !== 'timer') {
            break
        }
        if (yield* primaryUp(agent)) {
            rInfo('mqtt', 'The primary server is back: leaving %s', agent.serverName)
            agent.server = 0
            drop(agent)
            why = 'kick'
            break
        }
    }
    agent.connected = false
    if (agent.sock !== null) {
        rCloseSocket(agent.sock)
        agent.sock = null
    }
    rSignal('mqtt:disconnected')
    return why
}

/* A TCP (or TLS) connect to the primary: can it be reached again? */
function* primaryUp(agent: Agent): Fiber<boolean> {
    const primary = agent.config.servers[0]
    const probe = rAllocSocket()
    const rc = yield* rConnectSocket(probe, primary.host, primary.port, rGetTicks() + agent.config.connectTimeout)
    rCloseSocket(probe)
    return rc === 0
}

/** End the current link (DISCONNECT, then close); the agent reconnects unless stopping. */
export function drop(agent: Agent): void {
    mqttDisconnect(agent.mqtt)
    if (agent.sock !== null) {
        rCloseSocket(agent.sock)
    }
}
