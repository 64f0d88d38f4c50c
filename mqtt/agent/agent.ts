/*
    The connection agent: Ioto's automatic connection (the app gets `agent.mqtt`, like ioto->mqtt) with Mongoose
    OS's reconnect and backup server. This module is the app's side (start, control, counters, stop); the
    supervisor fiber that owns the connection lifecycle is in supervisor.ts. Publishes made while disconnected
    queue in order and are sent after the resends.
 */
import { isBody, rCallback, rSpawnCallback, type CallbackBody } from '../../runtime/callback.js'
import { stopTimer } from '../../runtime/events.js'
import { rInfo } from '../../runtime/log.js'
import { rCancelFiber } from '../../runtime/fiber.js'
import { allocFiber, schedule, type Fiber, type RFiber, type Waitable } from '../../runtime/scheduler.js'
import { done, Wait } from '../../runtime/waitable.js'
import type { RSocket } from '../../socket/rsocket.js'
import { mqttAlloc } from '../client/connect.js'
import { mqttGetStats, mqttSetInflight, mqttSetKeepWaits, mqttSetQueue } from '../client/settings.js'
import { mqttPublish } from '../client/publish.js'
import { mqttOnMessage } from '../client/dispatch.js'
import { MQTT_WAIT_NONE, type Mqtt, type MqttCallback } from '../client/state.js'
import { parseConfig, type AgentConfig } from './config.js'
import type { BeforeConnect } from './identity.js'
import { FileStore } from './store.js'
import { drop, onEvent, stopped, supervise, type Wake, type WakeWait } from './supervisor.js'

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
    /**
        The default message handler (mqttOnMessage): messages that no subscription with a callback takes, such
        as those a resumed session delivers before the app subscribes again. Without it they are held.
        @example ioAgent(config, { onMessage: (rp) => rInfo('app', '%s: %s', rp.topic, rp.text) })
     */
    onMessage?: MqttCallback
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
    /** ioAgentStop was called (its ioStop hook may still be running) */
    stopCalled = false
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
        mqttSetKeepWaits(mq, true)
        mq.qos0Offline = config.queue.qos0Offline
        mqttSetQueue(mq, config.queue.maxMessages, config.queue.maxBytes, config.queue.overflow)
        mqttSetInflight(mq, config.maxInflight)
        mq.onQueued = () => this.signal('demand')
        if (hooks.onMessage) {
            mqttOnMessage(mq, hooks.onMessage)
        }
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
    Stop, at once (as C's call, with or without yield*): run ioStop, disconnect (DISCONNECT, so no will), free
    the client, close the store. Waiters still waiting settle with R_ERR_NOT_CONNECTED; QoS 1/2 messages not
    yet acknowledged stay in the store. `yield*` waits until the agent has stopped (an ioStop hook that blocks
    runs first, on a fiber of its own).
    @example yield* ioAgentStop(agent)
 */
export function ioAgentStop(agent: Agent): Waitable<void> {
    if (agent.stopCalled) {
        return done(undefined)
    }
    agent.stopCalled = true
    if (ioto.agent === agent) {
        ioto.agent = null
        ioto.mqtt = null
    }
    const hook = agent.hooks.ioStop ? rCallback('agent', 'ioStop', agent.hooks.ioStop, agent) : undefined
    if (isBody(hook)) {
        rSpawnCallback('ioStop', afterHook(agent, hook))
        return agent.stopped
    }
    stopNow(agent)
    return agent.stopped
}

function* afterHook(agent: Agent, hook: CallbackBody): Fiber<void> {
    yield* hook
    stopNow(agent)
}

function stopNow(agent: Agent): void {
    agent.stopping = true
    /* Parked (online, backing off, paused) the supervisor has a wake; without one it is inside an attempt */
    const attempting = agent.wake === null
    if (agent.connected) {
        drop(agent)
    }
    agent.signal('stop')
    if (attempting && agent.fiber !== null && rCancelFiber(agent.fiber) === 0) {
        /* The supervisor is inside an attempt (its hook, the connect, the CONNACK): cancelled, it closes its socket */
        agent.connected = false
        stopped(agent)
    }
}
