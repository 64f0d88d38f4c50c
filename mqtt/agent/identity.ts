/*
    Who the agent is on each attempt: the server's settings (a backup connects with its own client id,
    credentials and will), adjusted by the app's beforeConnect hook when there is one (a fresh token, a rotated
    certificate), then handed to the client.
 */
import { rInvoke, rRunResult } from '../../runtime/callback.js'
import type { CallbackResult, Fiber } from '../../runtime/body.js'
import { utf8Length } from '../codec/utf8.js'
import { mqttGetError, mqttSetCredentials, mqttSetKeepAlive, mqttSetTimeout, mqttSetWill } from '../client/settings.js'
import { mqttSetProtocol } from '../client/protocol5.js'
import { type Mqtt, type MqttLimits } from '../client/state.js'
import { clientIdProblem, defaultConfig } from '../client/config.js'
import type { ServerConfig } from './config.js'

/** Runs before every connection attempt with this attempt's copy of the server's settings. */
export type BeforeConnect<A> = (agent: A, server: ServerConfig) => CallbackResult


/**
    This attempt's settings: the configured ones, or a copy the hook has adjusted. A string is why the attempt
    is abandoned (the hook returned a negative code or threw, or left a client id the client cannot send).
 */
export function* attemptSettings<A>(agent: A, hook: BeforeConnect<A> | undefined, configured: ServerConfig): Fiber<ServerConfig | string> {
    if (hook === undefined) {
        return configured
    }
    const server: ServerConfig = { ...configured, tls: configured.tls && { ...configured.tls } }
    try {
        const r = yield* rRunResult(rInvoke(hook, agent, server))
        if (typeof r === 'number' && r < 0) {
            return `beforeConnect abandoned the attempt (${r})`
        }
    } catch (err) {
        return `beforeConnect failed: ${err instanceof Error ? err.message : String(err)}`
    }
    const problem = clientIdProblem(server.clientId, agentLimits(agent), server.cleanSession)
    if (problem !== null) {
        return `Bad client id "${server.clientId}": ${problem}`
    }
    return server
}

function agentLimits(agent: unknown): MqttLimits {
    return (agent as { mqtt?: Mqtt }).mqtt?.cfg.limits ?? defaultConfig.value.limits
}

/** Give the client this attempt's identity; null, or why the settings cannot be used. */
export function applySettings(mq: Mqtt, server: ServerConfig): string | null {
    mq.id = server.clientId
    if (mqttSetCredentials(mq, server.user, server.pass) !== 0) {
        return mqttGetError(mq)
    }
    mqttSetKeepAlive(mq, server.keepAlive)
    mqttSetTimeout(mq, server.timeout)
    /* The protocol state is made once per agent (a redirect it holds survives the next attempt) */
    if ((server.protocol === 5) !== (mq.cfg.v5 !== null)) {
        mqttSetProtocol(mq, server.protocol, server.sessionExpiry !== null ? { sessionExpiryInterval: server.sessionExpiry } : {})
    }
    if (server.willTopic !== null) {
        const message = server.willMessage ?? ''
        if (mqttSetWill(mq, server.willTopic, message, utf8Length(message)) !== 0) {
            return mqttGetError(mq)
        }
    } else {
        mq.willTopic = mq.willMsg = null
        mq.willMsgSize = 0
    }
    return null
}
