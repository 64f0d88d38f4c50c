/*
    The agent's state: the Agent object (its client, store, attempts and lifecycle flags) and the hooks an app
    gives it. The behaviour is elsewhere: agent.ts (the app's calls) and supervisor.ts (the connection's
    lifecycle fiber), which both read this.
 */
import type { TimerEvent } from '../../runtime/events.js'
import type { RFiber } from '../../runtime/scheduler.js'
import type { CallbackResult } from '../../runtime/body.js'
import { Wait } from '../../runtime/waitable.js'
import type { RSocket } from '../../socket/rsocket.js'
import { mqttAlloc } from '../client/connect.js'
import { mqttOnMessage } from '../client/dispatch.js'
import { mqttSetInflight, mqttSetKeepWaits, mqttSetQueue } from '../client/settings.js'
import type { Mqtt, MqttCallback } from '../client/state.js'
import { ownConfig } from '../client/config.js'
import type { AgentConfig } from './config.js'
import type { BeforeConnect } from './identity.js'
import type { FileStore } from './store.js'

/** Why the supervisor woke */
export type Wake = 'down' | 'kick' | 'timer' | 'demand' | 'stop'

export class WakeWait extends Wait<Wake> {
    timer: TimerEvent | null = null
}

export type AgentHook = (agent: Agent) => CallbackResult

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
        const mq = mqttAlloc(primary.clientId, null)
        if (mq === null) {
            throw new Error(`Bad client id "${primary.clientId}"`)
        }
        this.mqtt = mq
        mqttSetKeepWaits(mq, true)
        ownConfig(mq).qos0Offline = config.queue.qos0Offline
        mqttSetQueue(mq, config.queue.maxMessages, config.queue.maxBytes, config.queue.overflow)
        mqttSetInflight(mq, config.maxInflight)
        if (hooks.onMessage) {
            mqttOnMessage(mq, hooks.onMessage)
        }
    }

    /** "host:port" of the server in use */
    get serverName(): string {
        const s = this.config.servers[this.server]
        return `${s.host}:${s.port}`
    }
}

