/*
    The connection agent: Ioto's automatic connection (the app gets `agent.mqtt`, like ioto->mqtt) with Mongoose
    OS's reconnect and backup server. This module is the app's side (start, control, counters, stop); the
    supervisor fiber that owns the connection lifecycle is in supervisor.ts. Publishes made while disconnected
    queue in order and are sent after the resends.
 */
import { isBody, rCallback, rSpawnCallback, type CallbackBody } from '../../runtime/callback.js'
import { rError, rInfo } from '../../runtime/log.js'
import { rCancelFiber } from '../../runtime/fiber.js'
import { allocFiber, schedule } from '../../runtime/scheduler.js'
import type { Fiber, Waitable } from '../../runtime/body.js'
import { Done, done } from '../../runtime/waitable.js'
import { mqttGetError, mqttGetStats } from '../client/settings.js'
import { mqttSetProtocol } from '../client/protocol5.js'
import { readProperties, type Properties } from '../codec/properties.js'
import { mqttPublishEx } from '../client/publish.js'
import { MQTT_WAIT_NONE, type Mqtt } from '../client/state.js'
import { ownConfig } from '../client/config.js'
import { parseConfig, type AgentConfig } from './config.js'
import { FileStore } from './store.js'
import { drop, onEvent, stopped, supervise, wake } from './supervisor.js'
import { Agent, type AgentHooks } from './state.js'

export { Agent, type AgentAttempt, type AgentHook, type AgentHooks } from './state.js'

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
    /* The supervisor hears the client's events, and a publish while idle brings the link back */
    agent.mqtt.proc = (_mq, event) => onEvent(agent, event)
    ownConfig(agent.mqtt).onQueued = () => wake(agent, 'demand')
    /* The first server's protocol from the start: MQTT 5 messages (properties) can be published and restored offline */
    const first = parsed.servers[0]
    if (first?.protocol === 5) {
        mqttSetProtocol(agent.mqtt, 5, first.sessionExpiry !== null ? { sessionExpiryInterval: first.sessionExpiry } : {})
    }
    if (parsed.store !== null) {
        agent.store = new FileStore(parsed.store.path, parsed.store.fsync)
        ownConfig(agent.mqtt).outbox = agent.store
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
        /* As it was published: retained or not, with its MQTT 5 properties (kept only by an MQTT 5 client) */
        let properties: Properties | undefined
        if (m.props !== null && m.props !== undefined) {
            if (agent.mqtt.cfg.v5 !== null) {
                try {
                    properties = readProperties(m.props, 0, m.props.length, 'PUBLISH')[0]
                } catch (err) {
                    rError('mqtt', 'Message %d on "%s": its stored properties cannot be read (%s); sent without them', m.seq, m.topic, (err as Error).message)
                }
            } else {
                rInfo('mqtt', 'Message %d on "%s" is restored without its MQTT 5 properties: the agent now speaks MQTT 3.1.1', m.seq, m.topic)
            }
        }
        const rc = mqttPublishEx(agent.mqtt, m.payload, m.payload.length, m.qos, MQTT_WAIT_NONE, { retain: m.retain, properties }, '%s', m.topic)
        if (rc instanceof Done && rc.value !== 0) {
            rError('mqtt', 'Cannot restore message %d on "%s": %s', m.seq, m.topic, mqttGetError(agent.mqtt) ?? rc.value)
        }
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
        wake(agent, 'kick')
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
            wake(agent, 'kick')
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
    wake(agent, 'stop')
    if (attempting && agent.fiber !== null && rCancelFiber(agent.fiber) === 0) {
        /* The supervisor is inside an attempt (its hook, the connect, the CONNACK): cancelled, it closes its socket */
        agent.connected = false
        stopped(agent)
    }
}
