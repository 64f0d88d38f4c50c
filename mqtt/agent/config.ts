/*
    Agent configuration: the keys of Mongoose OS's "mqtt" section (a backup server in "mqtt1") and of Ioto's
    "mqtt" section, plus subscriptions to hold, the offline queue and the durable store. Anything unknown or
    of the wrong type is an AgentConfigError naming the key.
 */
import { readFileSync } from 'node:fs'
import { type QueuePolicy } from '../client/state.js'
import { clientIdProblem, defaultConfig } from '../client/config.js'
import { topicNameProblem } from '../topic.js'
import { isUrl, parseMqttUrl, type MqttUrl } from '../url.js'

/**
    A configuration error: `key` names the offending key (e.g. mqtt.keep_alive).
    @example try { ioAgent(config) } catch (e) { if (e instanceof AgentConfigError) rError('app', 'config: %s', e.message) }
 */
export class AgentConfigError extends Error {
    override name = 'AgentConfigError'

    constructor(readonly key: string, message: string) {
        super(`${key}: ${message}`)
    }
}

export interface ServerConfig {
    host: string
    port: number
    clientId: string
    cleanSession: boolean
    /** Keep-alive, ms */
    keepAlive: number
    user: string
    pass: string
    willTopic: string | null
    willMessage: string | null
    /** 4 (MQTT 3.1.1, the default) or 5 (MQTT 5.0) */
    protocol: number
    /** MQTT 5: the Session Expiry Interval asked for, in seconds (null: none, the session ends with the connection) */
    sessionExpiry: number | null
    /** MQTT over WebSocket: the HTTP path (a ws:// or wss:// server URL), or null */
    websocket: string | null
    /** TLS (null: plain TCP) */
    tls: { ca: string | null, cert: string | null, key: string | null, alpn: string | null, ciphers: string | null, verify: boolean, serverName: string | null } | null
    /** Reconnect interval bounds, ms */
    reconnectMin: number
    reconnectMax: number
    /** Idle timeout, ms (0: none) */
    timeout: number
}

export interface AgentConfig {
    servers: ServerConfig[]
    subscriptions: { topic: string, qos: number }[]
    queue: { maxMessages: number, maxBytes: number, overflow: QueuePolicy, qos0Offline: 'drop' | 'queue' }
    store: { path: string, fsync: boolean } | null
    /** Connected this long (ms) and the backoff starts over */
    stableTime: number
    /** While on the backup server, probe the primary this often (ms; 0: never) */
    failback: number
    /** QoS 1/2 messages in flight */
    maxInflight: number
    /** Connect deadline per attempt, ms */
    connectTimeout: number
}

const SERVER_KEYS = new Set([
    /* Mongoose OS */
    'enable', 'server', 'client_id', 'clean_session', 'keep_alive', 'user', 'pass', 'will_topic', 'will_message',
    'ssl_ca_cert', 'ssl_cert', 'ssl_key', 'ssl_cipher_suites', 'reconnect_timeout_min', 'reconnect_timeout_max',
    'cloud_events', 'debug_use_log_level', 'max_qos', 'ssl_psk_identity', 'ssl_psk_key',
    /* Ioto */
    'endpoint', 'port', 'alpn', 'authority', 'certificate', 'key', 'timeout', 'schedule', 'delay', 'jitter',
    /* both */
    'verify', 'server_name',
    /* MQTT 5 (beyond both) */
    'protocol', 'session_expiry',
])
const TOP_KEYS = new Set(['mqtt', 'mqtt1', 'subscriptions', 'queue', 'store', 'stable_time', 'failback_interval', 'max_inflight', 'connect_timeout', 'device_id', 'id'])

function type(key: string, value: unknown, expected: 'string' | 'number' | 'boolean'): void {
    if (typeof value !== expected || (expected === 'number' && !Number.isFinite(value))) {
        throw new AgentConfigError(key, `must be a ${expected}, not ${JSON.stringify(value)}`)
    }
}

/**
    Ioto's duration values: a number of seconds, or "N secs", "N min", "N hr", "N day", "N week", "forever",
    "never" (no limit: 0). Returns milliseconds.
    @example duration('mqtt.timeout', '5 min')   // 300000
 */
export function duration(key: string, value: unknown): number {
    if (typeof value === 'number') {
        if (value < 0) {
            throw new AgentConfigError(key, 'must not be negative')
        }
        return value * 1000
    }
    if (typeof value !== 'string') {
        throw new AgentConfigError(key, `must be a number of seconds or a duration like "1 min", not ${JSON.stringify(value)}`)
    }
    const text = value.trim().toLowerCase()
    if (['forever', 'never', 'unlimited', 'infinite'].includes(text)) {
        return 0
    }
    const m = /^(\d+(?:\.\d+)?)\s*(s|sec|secs|second|seconds|m|min|mins|minute|minutes|h|hr|hrs|hour|hours|d|day|days|w|week|weeks)?$/.exec(text)
    if (!m) {
        throw new AgentConfigError(key, `"${value}" is not a duration (e.g. "30 secs", "1 min", "forever")`)
    }
    const unit = (m[2] ?? 's')[0]
    const scale = unit === 's' ? 1 : unit === 'm' ? 60 : unit === 'h' ? 3600 : unit === 'd' ? 86400 : 604800
    return Number(m[1]) * scale * 1000
}

function server(section: string, raw: Record<string, unknown>, id: string): ServerConfig {
    for (const key of Object.keys(raw)) {
        if (!SERVER_KEYS.has(key)) {
            throw new AgentConfigError(`${section}.${key}`, 'unknown key')
        }
    }
    const k = (key: string) => `${section}.${key}`
    const str = (key: string): string | null => {
        const v = raw[key]
        if (v === undefined || v === null || v === '') return null
        type(k(key), v, 'string')
        return v as string
    }
    const num = (key: string, dflt: number): number => {
        const v = raw[key]
        if (v === undefined) return dflt
        type(k(key), v, 'number')
        if ((v as number) < 0) throw new AgentConfigError(k(key), 'must not be negative')
        return v as number
    }
    const bool = (key: string, dflt: boolean): boolean => {
        const v = raw[key]
        if (v === undefined) return dflt
        type(k(key), v, 'boolean')
        return v as boolean
    }
    const ca = str('ssl_ca_cert') ?? str('authority')
    const cert = str('ssl_cert') ?? str('certificate')
    const key = str('ssl_key') ?? str('key')
    const alpn = str('alpn')
    const serverName = str('server_name')
    const spec = str('server')
    let url: MqttUrl | null = null
    if (spec !== null && isUrl(spec)) {
        try {
            url = parseMqttUrl(spec)
        } catch (err) {
            throw new AgentConfigError(k('server'), (err as Error).message)
        }
    }
    const tls = ca !== null || cert !== null || key !== null || alpn !== null || url?.tls === true
    let host: string | null = null
    let port = num('port', tls ? 8883 : 1883)
    if (url !== null) {
        host = url.host
        port = url.port
    } else if (spec !== null) {
        const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(spec)
        if (!m) {
            throw new AgentConfigError(k('server'), `"${spec}" is not host or host:port`)
        }
        host = m[1]
        if (m[2]) port = Number(m[2])
    } else {
        host = str('endpoint')
        if (host !== null && raw.port === undefined) port = tls ? 443 : 1883
    }
    if (host === null) {
        throw new AgentConfigError(k('server'), 'a broker is needed: "server" (host:port) or "endpoint" and "port"')
    }
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new AgentConfigError(k('port'), `${port} is not a port`)
    }
    if ((cert === null) !== (key === null)) {
        throw new AgentConfigError(k(cert === null ? 'ssl_cert' : 'ssl_key'), 'a client certificate needs its key (and the key its certificate)')
    }
    const protocol = num('protocol', 4)
    if (protocol !== 4 && protocol !== 5) {
        throw new AgentConfigError(k('protocol'), `protocol ${protocol}: 4 (MQTT 3.1.1) or 5 (MQTT 5.0)`)
    }
    const sessionExpiry = raw.session_expiry === undefined ? null : num('session_expiry', 0)
    if (sessionExpiry !== null && (protocol !== 5 || !Number.isInteger(sessionExpiry) || sessionExpiry < 0 || sessionExpiry > 4_294_967_295)) {
        throw new AgentConfigError(k('session_expiry'), protocol !== 5 ? 'a session expiry needs protocol 5' : 'seconds, from 0 to 4,294,967,295')
    }
    const willTopic = str('will_topic')
    const willMessage = str('will_message')
    if ((willTopic === null) !== (willMessage === null)) {
        throw new AgentConfigError(k(willTopic === null ? 'will_topic' : 'will_message'), 'a will needs both a topic and a message')
    }
    if (willTopic !== null) {
        const problem = topicNameProblem(willTopic)
        if (problem !== null) {
            throw new AgentConfigError(k('will_topic'), problem.message)
        }
    }
    const min = num('reconnect_timeout_min', 2) * 1000
    const max = num('reconnect_timeout_max', 60) * 1000
    if (min <= 0 || max < min) {
        throw new AgentConfigError(k('reconnect_timeout_max'), 'reconnect_timeout_min must be > 0 and not above reconnect_timeout_max')
    }
    const clientId = raw.client_id === '' ? '' : str('client_id') ?? id
    const cleanSession = bool('clean_session', true)
    const idProblem = clientIdProblem(clientId, defaultConfig.value.limits, cleanSession)
    if (idProblem !== null) {
        throw new AgentConfigError(k('client_id'), idProblem)
    }
    return {
        host, port, clientId,
        cleanSession,
        keepAlive: num('keep_alive', 60) * 1000,
        user: str('user') ?? url?.username ?? '',
        pass: str('pass') ?? url?.password ?? '',
        willTopic, willMessage,
        websocket: url?.websocket ?? null,
        protocol,
        sessionExpiry,
        tls: tls ? { ca, cert, key, alpn, ciphers: str('ssl_cipher_suites'), verify: bool('verify', true), serverName } : null,
        reconnectMin: min,
        reconnectMax: max,
        timeout: raw.timeout === undefined ? 0 : duration(k('timeout'), raw.timeout),
    }
}

/**
    Read and check a configuration: an object, or the path of a JSON file.
    @example const config = parseConfig({ mqtt: { server: 'broker.local:1883', client_id: 'dev-1' } })
 */
export function parseConfig(input: string | Record<string, unknown>): AgentConfig {
    let raw: Record<string, unknown>
    if (typeof input === 'string') {
        let text: string
        try {
            text = readFileSync(input, 'utf8')
        } catch (err) {
            throw new AgentConfigError(input, `cannot read the configuration: ${(err as Error).message}`)
        }
        try {
            raw = JSON.parse(text)
        } catch (err) {
            throw new AgentConfigError(input, `not valid JSON: ${(err as Error).message}`)
        }
    } else {
        raw = input
    }
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
        throw new AgentConfigError('(config)', 'must be an object')
    }
    for (const key of Object.keys(raw)) {
        if (!TOP_KEYS.has(key)) {
            throw new AgentConfigError(key, 'unknown key')
        }
    }
    if (raw.mqtt === undefined || raw.mqtt === null || typeof raw.mqtt !== 'object') {
        throw new AgentConfigError('mqtt', 'the "mqtt" section is required')
    }
    const id = typeof raw.device_id === 'string' ? raw.device_id : typeof raw.id === 'string' ? raw.id : `device-${process.pid}`
    const servers = [server('mqtt', raw.mqtt as Record<string, unknown>, id)]
    const backup = raw.mqtt1 as Record<string, unknown> | undefined
    if (backup !== undefined && backup !== null) {
        if (typeof backup !== 'object') {
            throw new AgentConfigError('mqtt1', 'must be an object')
        }
        if (backup.enable !== false) {
            /* The backup takes the primary's settings it does not set itself */
            servers.push(server('mqtt1', { ...(raw.mqtt as object), server: undefined, endpoint: undefined, port: undefined, ...backup }, id))
        }
    }
    const subscriptions: { topic: string, qos: number }[] = []
    if (raw.subscriptions !== undefined) {
        if (!Array.isArray(raw.subscriptions)) {
            throw new AgentConfigError('subscriptions', 'must be a list of topic filters or { topic, qos }')
        }
        raw.subscriptions.forEach((s, i) => {
            const entry = typeof s === 'string' ? { topic: s, qos: 1 } : s as { topic: unknown, qos: unknown }
            if (typeof entry?.topic !== 'string' || entry.topic === '') {
                throw new AgentConfigError(`subscriptions[${i}].topic`, 'must be a topic filter')
            }
            const qos = entry.qos ?? 1
            if (qos !== 0 && qos !== 1 && qos !== 2) {
                throw new AgentConfigError(`subscriptions[${i}].qos`, 'must be 0, 1 or 2')
            }
            subscriptions.push({ topic: entry.topic, qos })
        })
    }
    const q = (raw.queue ?? {}) as Record<string, unknown>
    for (const key of Object.keys(q)) {
        if (!['max_messages', 'max_bytes', 'overflow', 'qos0_offline'].includes(key)) {
            throw new AgentConfigError(`queue.${key}`, 'unknown key')
        }
    }
    const overflow = (q.overflow ?? 'wait') as QueuePolicy
    if (!['wait', 'reject', 'drop-oldest', 'drop-newest'].includes(overflow)) {
        throw new AgentConfigError('queue.overflow', 'must be "wait", "reject", "drop-oldest" or "drop-newest"')
    }
    const qos0Offline = (q.qos0_offline ?? 'drop') as 'drop' | 'queue'
    if (qos0Offline !== 'drop' && qos0Offline !== 'queue') {
        throw new AgentConfigError('queue.qos0_offline', 'must be "drop" or "queue"')
    }
    const positive = (key: string, v: unknown, dflt: number): number => {
        if (v === undefined) return dflt
        type(key, v, 'number')
        if (!((v as number) > 0)) throw new AgentConfigError(key, 'must be greater than 0')
        return v as number
    }
    let store: AgentConfig['store'] = null
    if (raw.store !== undefined && raw.store !== null) {
        const s = typeof raw.store === 'string' ? { path: raw.store } : raw.store as Record<string, unknown>
        if (typeof s.path !== 'string' || s.path === '') {
            throw new AgentConfigError('store.path', 'must be a file path')
        }
        store = { path: s.path, fsync: s.fsync === true }
    }
    return {
        servers,
        subscriptions,
        queue: {
            maxMessages: positive('queue.max_messages', q.max_messages, 10_000),
            maxBytes: positive('queue.max_bytes', q.max_bytes, 64 * 1024 * 1024),
            overflow, qos0Offline,
        },
        store,
        stableTime: positive('stable_time', raw.stable_time, 30) * 1000,
        failback: raw.failback_interval === 0 ? 0 : positive('failback_interval', raw.failback_interval, 60) * 1000,
        maxInflight: positive('max_inflight', raw.max_inflight, 100),
        connectTimeout: positive('connect_timeout', raw.connect_timeout, 10) * 1000,
    }
}
