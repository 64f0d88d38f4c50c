/*
    The connection agent: Ioto's automatic connection (the app gets `agent.mqtt`, like ioto->mqtt) with Mongoose
    OS's reconnect and backup server. One supervisor fiber owns the whole lifecycle: connect, hold the
    configured subscriptions, wait for the link to drop (or probe the primary while on the backup), back off,
    fail over, reconnect. Publishes made while disconnected queue in order and are sent after the resends.
 */
import { R_ERR_CANT_CONNECT } from '../../runtime/errors.js'
import { startTimer, stopTimer, type TimerEvent } from '../../runtime/events.js'
import { rError, rInfo } from '../../runtime/log.js'
import { allocFiber, schedule, type Fiber, type RFiber, type Waitable } from '../../runtime/scheduler.js'
import { rGetTicks } from '../../runtime/time.js'
import { rSignal } from '../../runtime/watch.js'
import { Wait } from '../../runtime/waitable.js'
import { rAllocSocket, rCloseSocket, rGetSocketError } from '../../socket/control.js'
import { rConnectSocket } from '../../socket/connect.js'
import { rSetSocketCerts, rSetSocketCiphers, rSetSocketVerify, rSetTlsAlpn } from '../../socket/tls.js'
import type { RSocket } from '../../socket/rsocket.js'
import {
    mqttAlloc, mqttConnect, mqttDisconnect, mqttFree, mqttGetError, mqttGetStats, mqttSetInflight, mqttSetQueue,
} from '../client/connect.js'
import { mqttPublish } from '../client/publish.js'
import { MQTT_EVENT_DISCONNECT, MQTT_EVENT_TIMEOUT, MQTT_WAIT_ACK, MQTT_WAIT_NONE, type Mqtt } from '../client/state.js'
import { mqttSubscribeMaster } from '../client/subscribe.js'
import { MQTT_CONNECT_CLEAN_SESSION } from '../constants.js'
import { Backoff } from './backoff.js'
import { parseConfig, type AgentConfig, type ServerConfig } from './config.js'
import { attemptSettings, applySettings, type BeforeConnect } from './identity.js'
import { FileStore } from './store.js'

export type AgentHook = (agent: Agent) => Generator<unknown, unknown, unknown> | unknown

export interface AgentHooks {
    /** Runs on a fiber of its own after the first connection (Ioto's ioStart) */
    ioStart?: AgentHook
    /** Runs before the agent disconnects on shutdown (Ioto's ioStop) */
    ioStop?: AgentHook
    /**
        Runs on the agent's fiber before every connection attempt with this attempt's copy of the server's
        settings: set `user`, `pass`, `clientId`, the will or the TLS files there (a fresh token, a rotated
        certificate). A generator may block (to fetch a token). A negative return or a throw abandons the
        attempt, which backs off like any failure and is recorded with the reason.
        @example ioAgent(config, { *beforeConnect(agent, server) { server.pass = yield* fetchToken() } })
     */
    beforeConnect?: BeforeConnect<Agent>
}

/** Why the supervisor woke */
type Wake = 'down' | 'kick' | 'timer' | 'demand' | 'stop'

class WakeWait extends Wait<Wake> {
    timer: TimerEvent | null = null
}

export interface AgentAttempt {
    /** Ticks when the attempt began and when it ended */
    began: number
    at: number
    server: string
    rc: number
    error: string
}

/**
    The connection agent made by ioAgent: `mqtt` is the client (usable at once), `attempts` the recent connection attempts.
    @example const agent: Agent = ioAgent('device.json'); yield* mqttPublish(agent.mqtt, 'up', 0, 1, MQTT_WAIT_NONE, 'dev/status')
 */
export class Agent {
    readonly config: AgentConfig
    /** The client, connected or not (Ioto's ioto->mqtt) */
    readonly mqtt: Mqtt
    /** The server in use: 0 the primary, 1 the backup */
    server = 0
    sock: RSocket | null = null
    connected = false
    reconnects = 0
    /** Recent connection attempts (at most 100), for diagnostics */
    attempts: AgentAttempt[] = []
    store: FileStore | null = null
    stopping = false
    idle = false
    /** Not connecting until ioConnect (Mongoose's mgos_mqtt_global_disconnect) */
    paused = false
    started = false
    everConnected = false
    wake: WakeWait | null = null
    fiber: RFiber | null = null
    stopped: Wait<void> = new Wait<void>()

    constructor(config: AgentConfig, readonly hooks: AgentHooks) {
        this.config = config
        const primary = config.servers[0]
        const mq = mqttAlloc(primary.clientId, (_mq, event) => onEvent(this, event))
        if (mq === null) {
            throw new Error(`Bad client id "${primary.clientId}"`)
        }
        this.mqtt = mq
        mq.queueOffline = true
        mq.keepWaits = true
        mq.qos0Offline = config.queue.qos0Offline
        mqttSetQueue(mq, config.queue.maxMessages, config.queue.maxBytes, config.queue.overflow)
        mqttSetInflight(mq, config.maxInflight)
        mq.onQueued = () => this.signal('demand')
    }

    /** "host:port" of the server in use */
    get serverName(): string {
        const s = this.config.servers[this.server]
        return `${s.host}:${s.port}`
    }

    signal(why: Wake): void {
        const w = this.wake
        if (w !== null && (why !== 'demand' || this.idle)) {
            this.wake = null
            stopTimer(w.timer)
            w.settle(why)
        }
    }
}

/**
    The agent started last: ported Ioto code reads ioto.mqtt.
    @example yield* mqttPublish(ioto.mqtt, 'Initialized', 0, MQTT_QOS_1, MQTT_WAIT_NONE, 'myDevice/init')
 */
export const ioto: { mqtt: Mqtt | null, agent: Agent | null } = { mqtt: null, agent: null }

/**
    Start an agent from a configuration (an object, or a JSON file's path). It connects in the background and
    keeps connecting; `agent.mqtt` is usable at once (publishes queue until connected).
    @example const agent = ioAgent({ mqtt: { server: 'broker.local:1883', client_id: 'dev-1' } }, { ioStart })
 */
export function ioAgent(config: string | Record<string, unknown> | AgentConfig, hooks: AgentHooks = {}): Agent {
    const parsed = typeof config === 'object' && 'servers' in config ? config as AgentConfig : parseConfig(config as string | Record<string, unknown>)
    const agent = new Agent(parsed, hooks)
    if (parsed.store !== null) {
        agent.store = new FileStore(parsed.store.path, parsed.store.fsync)
        agent.mqtt.outbox = agent.store
        restore(agent)
    }
    ioto.mqtt = agent.mqtt
    ioto.agent = agent
    agent.fiber = allocFiber('mqtt-agent', supervise, agent)
    schedule(agent.fiber, undefined)
    return agent
}

/* Messages the store kept from an earlier run are queued again first, with their records */
function restore(agent: Agent): void {
    const store = agent.store!
    const restored = store.restored
    for (const m of restored) {
        store.replaying = m
        mqttPublish(agent.mqtt, m.payload, m.payload.length || 0, m.qos, MQTT_WAIT_NONE, '%s', m.topic)
    }
    store.replaying = null
    if (restored.length > 0) {
        rInfo('mqtt', 'Restored %d unacknowledged message(s) from %s', restored.length, store.path)
    }
}

function onEvent(agent: Agent, event: number): void {
    if (event === MQTT_EVENT_DISCONNECT) {
        agent.signal('down')
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

function* supervise(agent: Agent): Fiber<void> {
    const servers = agent.config.servers
    let backoff = new Backoff(servers[0].reconnectMin, servers[0].reconnectMax)
    let streak = ''
    while (!agent.stopping) {
        while (agent.paused) {
            if ((yield* wakeUp(agent, 0)) === 'stop') {
                agent.stopped.settle(undefined)
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
    const sock = rAllocSocket()
    if (server.tls) {
        rSetSocketCerts(sock, server.tls.ca, server.tls.key, server.tls.cert, null)
        rSetSocketVerify(sock, server.tls.verify, server.tls.verify)
        if (server.tls.alpn) rSetTlsAlpn(sock, server.tls.alpn)
        if (server.tls.ciphers) rSetSocketCiphers(sock, server.tls.ciphers)
    }
    let rc = yield* rConnectSocket(sock, server.host, server.port, rGetTicks() + agent.config.connectTimeout)
    if (rc !== 0) {
        rCloseSocket(sock)
        return record(agent, began, server, rc, rGetSocketError(sock) ?? 'connect failed')
    }
    rc = yield* mqttConnect(mq, sock, server.cleanSession ? MQTT_CONNECT_CLEAN_SESSION : 0, MQTT_WAIT_ACK)
    if (rc !== 0) {
        rCloseSocket(sock)
        /* A refused login backs off like any failure (no hot loop); the reason is CONNACK's */
        return record(agent, began, server, rc, mqttGetError(mq) || 'MQTT connect failed')
    }
    if (agent.stopping) {
        drop(agent)
        return R_ERR_CANT_CONNECT
    }
    agent.sock = sock
    record(agent, began, server, 0, '')
    return 0
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
    for (const s of agent.config.subscriptions) {
        if (!mq.masterTopics.includes(s.topic)) {
            yield* mqttSubscribeMaster(mq, s.qos, MQTT_WAIT_NONE, '%s', s.topic)
        }
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
function drop(agent: Agent): void {
    mqttDisconnect(agent.mqtt)
    if (agent.sock !== null) {
        rCloseSocket(agent.sock)
    }
}

/**
    Connect now: cut the current backoff wait short (Ioto's ioConnect; Mongoose's mgos_mqtt_global_connect).
    @example rWatch('net:up', () => ioConnect(agent), null)
 */
export function ioConnect(agent: Agent | null = ioto.agent): void {
    if (agent !== null) {
        agent.idle = false
        agent.paused = false
        agent.signal('kick')
    }
}

/**
    Drop the connection; the agent reconnects after its backoff (Ioto's ioDisconnect).
    @example ioDisconnect(agent)   // drop the link; the agent reconnects
 */
export function ioDisconnect(agent: Agent | null = ioto.agent): void {
    if (agent !== null && agent.connected) {
        drop(agent)
    }
}

/**
    Disconnect and stop connecting until ioConnect (Mongoose's mgos_mqtt_global_disconnect).
    @example ioPause(agent)   // until ioConnect(agent)
 */
export function ioPause(agent: Agent | null = ioto.agent): void {
    if (agent !== null) {
        agent.paused = true
        if (agent.connected) {
            drop(agent)
        } else {
            agent.signal('kick')
        }
    }
}

/**
    Whether the agent's link is up.
    @example if (!ioConnected(agent)) rInfo('app', 'offline: publishes are queued')
 */
export function ioConnected(agent: Agent | null = ioto.agent): boolean {
    return agent !== null && agent.connected
}

/**
    Counters: queued, in flight, published, acknowledged, dropped, resent, received, reconnects, current server.
    @example const { queued, reconnects, server } = ioAgentStats(agent)
 */
export function ioAgentStats(agent: Agent) {
    return { ...mqttGetStats(agent.mqtt), reconnects: agent.reconnects, server: agent.serverName, connected: agent.connected }
}

/**
    Stop: run ioStop, disconnect (DISCONNECT, so no will), free the client, close the store. Waiters still
    waiting settle with R_ERR_NOT_CONNECTED; QoS 1/2 messages not yet acknowledged stay in the store.
    @example yield* ioAgentStop(agent)
 */
export function* ioAgentStop(agent: Agent): Fiber<void> {
    if (agent.stopping) {
        return
    }
    if (agent.hooks.ioStop) {
        const r = agent.hooks.ioStop(agent) as any
        if (r !== null && typeof r === 'object' && typeof r.next === 'function') {
            yield* r as Generator<unknown, unknown, unknown>
        }
    }
    agent.stopping = true
    if (agent.connected) {
        drop(agent)
    }
    agent.signal('stop')
    yield* agent.stopped
    yield* mqttFree(agent.mqtt)
    agent.store?.close()
    if (ioto.agent === agent) {
        ioto.agent = null
        ioto.mqtt = null
    }
}
