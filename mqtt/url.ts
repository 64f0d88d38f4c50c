/*
    Broker URLs, one parser for the library, the agent's configuration and the command line:
        scheme://[user[:password]@]host[:port][/topic]
    mqtt:// and tcp:// are plain (port 1883), mqtts://, ssl:// and tls:// are TLS (port 8883); ws:// (port 80) and
    wss:// (TLS, port 443) are MQTT over WebSocket, where the path is the HTTP path (default "/mqtt"). The user name and
    password are percent-decoded; an IPv6 address goes in brackets; the topic is everything after the first
    '/' as written ('#' and '+' kept, no decoding). Errors never show the password.
 */

export interface MqttUrl {
    tls: boolean
    host: string
    port: number
    username: string | null
    password: string | null
    /** The path after the host, or null (mqtt schemes) */
    topic: string | null
    /** WebSocket (ws, wss): the HTTP path of the upgrade; null for the mqtt schemes */
    websocket: string | null
}

/**
    A URL that cannot be used: the message says why and shows the URL with its password masked.
    @example try { parseMqttUrl(text) } catch (e) { if (e instanceof MqttUrlError) console.error(e.message) }
 */
export class MqttUrlError extends Error {
    override name = 'MqttUrlError'
}

const SCHEMES: Record<string, boolean> = { mqtt: false, tcp: false, mqtts: true, ssl: true, tls: true, ws: false, wss: true }

/**
    The URL with any password replaced by "***", for messages.
    @example maskUrl('mqtt://dev:secret@host/t')   // 'mqtt://dev:***@host/t'
 */
export function maskUrl(url: string): string {
    return url.replace(/^([^:/]+:\/\/[^:@/]*:)[^@/]*@/, '$1***@')
}

function decode(part: string, what: string, url: string): string {
    try {
        return decodeURIComponent(part)
    } catch {
        throw new MqttUrlError(`Bad ${what} encoding in URL "${maskUrl(url)}"`)
    }
}

/**
    Parse a broker URL; throws MqttUrlError for a bad one.
    @example parseMqttUrl('mqtts://dev:s%40cret@broker.example.com/alerts/#')   // { tls: true, port: 8883, password: 's@cret', topic: 'alerts/#', ... }
 */
export function parseMqttUrl(url: string): MqttUrl {
    if (typeof url !== 'string') {
        throw new MqttUrlError('A URL must be a string')
    }
    const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s.exec(url)
    if (m === null) {
        throw new MqttUrlError(`Not a URL: "${maskUrl(url)}" (expected mqtt://host[:port][/topic])`)
    }
    const scheme = m[1].toLowerCase()
    const tls = SCHEMES[scheme]
    if (tls === undefined) {
        throw new MqttUrlError(`Unsupported URL scheme "${scheme}" in "${maskUrl(url)}" (mqtt, mqtts, tcp, ssl, tls, ws, wss)`)
    }
    let rest = m[2]
    let topic: string | null = null
    const ws = scheme === 'ws' || scheme === 'wss'
    let websocket: string | null = ws ? '/mqtt' : null
    const slash = rest.indexOf('/')
    if (slash >= 0) {
        if (ws) {
            websocket = rest.slice(slash)
            if (/[\s\0]/.test(websocket)) {
                throw new MqttUrlError(`Bad WebSocket path in "${maskUrl(url)}"`)
            }
        } else {
            topic = rest.slice(slash + 1) || null
        }
        rest = rest.slice(0, slash)
    }
    let username: string | null = null
    let password: string | null = null
    const at = rest.lastIndexOf('@')
    if (at >= 0) {
        const info = rest.slice(0, at)
        rest = rest.slice(at + 1)
        const colon = info.indexOf(':')
        username = decode(colon >= 0 ? info.slice(0, colon) : info, 'user name', url)
        password = colon >= 0 ? decode(info.slice(colon + 1), 'password', url) : null
    }
    let host: string
    let portText: string | null = null
    if (rest.startsWith('[')) {
        const close = rest.indexOf(']')
        if (close < 0) {
            throw new MqttUrlError(`Unclosed "[" in "${maskUrl(url)}"`)
        }
        host = rest.slice(1, close)
        const after = rest.slice(close + 1)
        if (after !== '' && !after.startsWith(':')) {
            throw new MqttUrlError(`Unexpected "${after}" after the address in "${maskUrl(url)}"`)
        }
        portText = after === '' ? null : after.slice(1)
    } else {
        const colon = rest.indexOf(':')
        if (colon >= 0 && rest.indexOf(':', colon + 1) >= 0) {
            throw new MqttUrlError(`An IPv6 address goes in brackets: "${maskUrl(url)}"`)
        }
        host = colon >= 0 ? rest.slice(0, colon) : rest
        portText = colon >= 0 ? rest.slice(colon + 1) : null
    }
    if (host === '') {
        throw new MqttUrlError(`No host in "${maskUrl(url)}"`)
    }
    let port = ws ? (tls ? 443 : 80) : tls ? 8883 : 1883
    if (portText !== null) {
        port = /^\d{1,5}$/.test(portText) ? Number(portText) : 0
        if (port < 1 || port > 65535) {
            throw new MqttUrlError(`Bad port "${portText}" in "${maskUrl(url)}"`)
        }
    }
    return { tls, host, port, username, password, topic, websocket }
}

/**
    Whether a server setting is a URL (scheme://...) rather than host[:port].
    @example isUrl('mqtts://broker:8883')   // true; isUrl('broker:1883') is false
 */
export function isUrl(text: string): boolean {
    return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text)
}
