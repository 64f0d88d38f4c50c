/*
    Command-line options of `fiber-mqtt pub` and `fiber-mqtt sub`: mosquitto_pub / mosquitto_sub 2.0's letters,
    meanings, limits and error texts, for MQTT 3.1.1 and, with -V mqttv5 (and -x), MQTT 5. -D, -e and transports the
    client does not have (SOCKS proxies, TLS engines) are refused by name. -D (MQTT 5 properties) is in properties.ts.
 */
import { parseMqttUrl, type MqttUrl } from '../mqtt/url.js'
import { topicFilterProblem, topicNameProblem } from '../mqtt/topic.js'
import { checkProperties, noProperties, parseProperty, PropertyError, type CliProperties } from './properties.js'

export class UsageError extends Error {}

export interface Will {
    topic: string
    payload: string
    qos: number
    retain: boolean
}

export interface Options {
    host: string
    port: number
    unix: string | null
    /** -V: 4 (mqttv311, the default) or 5 (mqttv5) */
    protocol: number
    /** -x: MQTT 5 session expiry interval, seconds (null: not given) */
    sessionExpiry: number | null
    /** -D: MQTT 5 properties by packet */
    properties: CliProperties
    /** sub --retain-as-published (MQTT 5) */
    retainAsPublished: boolean
    /** -L ws:// or wss://: MQTT over WebSocket with this HTTP path */
    websocket: string | null
    topics: string[]
    /** sub -T: topics not to print */
    filterOut: string[]
    /** sub -U: filters to unsubscribe from */
    unsubscribe: string[]
    message: string | null
    file: string | null
    lines: boolean
    nullMessage: boolean
    stdin: boolean
    qos: number
    retain: boolean
    id: string | null
    idPrefix: string | null
    user: string | null
    password: string | null
    keepAlive: number
    verbose: boolean
    count: number
    timeout: number
    debug: boolean
    quiet: boolean
    cleanSession: boolean
    noNewline: boolean
    noRetained: boolean
    retainedOnly: boolean
    removeRetained: boolean
    exitAfterSubscribe: boolean
    format: string | null
    pretty: boolean
    randomFilter: number
    repeat: number
    repeatDelay: number
    maxInflight: number
    cafile: string | null
    capath: string | null
    cert: string | null
    key: string | null
    ciphers: string | null
    tlsVersion: string | null
    tlsUseOsCerts: boolean
    insecure: boolean
    alpn: string | null
    tls: boolean
    will: Will | null
    /** -A: the local address to connect from */
    bind: string | null
    /** --psk / --psk-identity: TLS with a pre-shared key */
    psk: string | null
    pskIdentity: string | null
    help: boolean
}

type Command = 'pub' | 'sub'

/* Options that take a value, and which command knows them ('both', or one) */
const VALUE: Record<string, Command | 'both'> = {
    '-h': 'both', '--host': 'both', '-p': 'both', '--port': 'both', '-t': 'both', '--topic': 'both', '-i': 'both', '--id': 'both',
    '-I': 'both', '--id-prefix': 'both', '-u': 'both', '--username': 'both', '-P': 'both', '--pw': 'both', '-k': 'both',
    '--keepalive': 'both', '-q': 'both', '--qos': 'both', '-L': 'both', '--url': 'both', '-V': 'both', '--protocol-version': 'both',
    '--unix': 'both', '--cafile': 'both', '--capath': 'both', '--cert': 'both', '--key': 'both', '--ciphers': 'both',
    '--tls-version': 'both', '--tls-alpn': 'both', '--alpn': 'both', '--will-topic': 'both', '--will-payload': 'both',
    '--will-qos': 'both', '-A': 'both', '--proxy': 'both', '--psk': 'both', '--psk-identity': 'both', '--tls-engine': 'both',
    '--keyform': 'both', '--tls-engine-kpass-sha1': 'both', '-x': 'both', '--session-expiry-interval': 'both',
    '-m': 'pub', '--message': 'pub', '-f': 'pub', '--file': 'pub', '-M': 'pub', '--repeat': 'pub', '--repeat-delay': 'pub',
    '-C': 'sub', '-F': 'sub', '-T': 'sub', '--filter-out': 'sub', '-U': 'sub', '--unsubscribe': 'sub', '-W': 'sub',
    '--random-filter': 'sub',
}
/* -D takes three or four values (properties.ts) */

function int(name: string, value: string, min: number, max: number, message?: string): number {
    const n = /^-?\d+$/.test(value.trim()) ? Number(value) : NaN
    if (!Number.isInteger(n) || n < min || n > max) {
        throw new UsageError(message ?? `Invalid ${name} given: ${value}`)
    }
    return n
}

function qos(value: string, what = 'QoS'): number {
    return int(what, value, 0, 2, `Invalid ${what} given: ${value}`)
}

/** Apply `mqtt(s)://[user[:password]@]host[:port]/topic` (the library's parser: '#' and '+' kept, no password in errors). */
function url(o: Options, value: string): void {
    let u: MqttUrl
    try {
        u = parseMqttUrl(value)
    } catch (err) {
        throw new UsageError(`Invalid URL for -L: ${(err as Error).message}`)
    }
    o.tls = o.tls || u.tls
    o.host = u.host
    o.port = u.port
    o.websocket = u.websocket
    if (u.username !== null) o.user = u.username
    if (u.password !== null) o.password = u.password
    if (u.topic !== null) o.topics.push(u.topic)
}

export function defaults(): Options {
    return {
        host: 'localhost', port: 0, unix: null, websocket: null, protocol: 4, sessionExpiry: null, properties: noProperties(), retainAsPublished: false, topics: [], filterOut: [], unsubscribe: [], message: null, file: null, lines: false,
        nullMessage: false, stdin: false, qos: 0, retain: false, id: null, idPrefix: null, user: null, password: null, keepAlive: 60,
        verbose: false, count: 0, timeout: 0, debug: false, quiet: false, cleanSession: true, noNewline: false, noRetained: false,
        retainedOnly: false, removeRetained: false, exitAfterSubscribe: false, format: null, pretty: false, randomFilter: 100,
        repeat: 1, repeatDelay: 0, maxInflight: 20, cafile: null, capath: null, cert: null, key: null, ciphers: null, tlsVersion: null,
        tlsUseOsCerts: false, insecure: false, alpn: null, tls: false, will: null, bind: null, psk: null, pskIdentity: null, help: false,
    }
}

export function parseArgs(argv: string[], command: Command): Options {
    const o = defaults()
    let willTopic: string | null = null
    let willPayload: string | null = null
    let willQos = 0
    let willRetain = false
    for (let i = 0; i < argv.length; i++) {
        const flag = argv[i]
        let value = ''
        const takes = VALUE[flag]
        if (takes !== undefined && takes !== 'both' && takes !== command) {
            unknown(flag, command)
        }
        if (takes !== undefined) {
            if (i + 1 >= argv.length) {
                throw new UsageError(flag === '-t' || flag === '--topic' ? '-t argument given but no topic specified.' :
                    `${flag} argument given but no ${flag === '-m' ? 'message' : 'value'} specified.`)
            }
            value = argv[++i]
        }
        switch (flag) {
        case '-h': case '--host': o.host = value; break
        case '-p': case '--port': o.port = int('port', value, 1, 65535, `Invalid port given: ${value}`); break
        case '--unix': o.unix = value; break
        case '-t': case '--topic':
            if (command === 'pub') {
                if (o.topics.length > 0) throw new UsageError('Only one topic may be given for a publish.')
                if (topicNameProblem(value) !== null) throw new UsageError(`Invalid publish topic '${value}', does it contain '+' or '#'?`)
            } else if (topicFilterProblem(value) !== null) {
                throw new UsageError(`Invalid subscription topic '${value}', are all '+' and '#' wildcards correct?`)
            }
            o.topics.push(value)
            break
        case '-T': case '--filter-out':
            if (topicFilterProblem(value) !== null) throw new UsageError(`Invalid filter topic '${value}', are all '+' and '#' wildcards correct?`)
            o.filterOut.push(value)
            break
        case '-U': case '--unsubscribe':
            if (topicFilterProblem(value) !== null) throw new UsageError(`Invalid unsubscribe topic '${value}', are all '+' and '#' wildcards correct?`)
            o.unsubscribe.push(value)
            break
        case '-m': case '--message': o.message = value; break
        case '-f': case '--file': o.file = value; break
        case '-l': case '--stdin-line': if (command !== 'pub') unknown(flag, command); o.lines = true; break
        case '-n': case '--null-message': if (command !== 'pub') unknown(flag, command); o.nullMessage = true; break
        case '-s': case '--stdin-file': if (command !== 'pub') unknown(flag, command); o.stdin = true; break
        case '-q': case '--qos': o.qos = qos(value); break
        case '-r': case '--retain': if (command !== 'pub') unknown(flag, command); o.retain = true; break
        case '-i': case '--id': o.id = value; break
        case '-I': case '--id-prefix': o.idPrefix = value; break
        case '-u': case '--username': o.user = value; break
        case '-P': case '--pw': o.password = value; break
        case '-k': case '--keepalive':
            o.keepAlive = int('keepalive', value, 5, 65535, 'Invalid keepalive given, it must be between 5 and 65535 inclusive.')
            break
        case '-v': case '--verbose': if (command !== 'sub') unknown(flag, command); o.verbose = true; break
        case '-C': o.count = int('msg count', value, 1, Number.MAX_SAFE_INTEGER, 'Invalid message count.'); break
        case '-W': o.timeout = int('timeout', value, 1, 3600 * 24 * 365 * 10, 'Invalid timeout.'); break
        case '-d': case '--debug': o.debug = true; break
        case '--quiet': o.quiet = true; break
        case '-c': case '--disable-clean-session': o.cleanSession = false; break
        case '-N': if (command !== 'sub') unknown(flag, command); o.noNewline = true; break
        case '-R': if (command !== 'sub') unknown(flag, command); o.noRetained = true; break
        case '-E': if (command !== 'sub') unknown(flag, command); o.exitAfterSubscribe = true; break
        case '--retained-only': if (command !== 'sub') unknown(flag, command); o.retainedOnly = true; break
        case '--remove-retained': if (command !== 'sub') unknown(flag, command); o.removeRetained = true; break
        case '-F': o.format = value; break
        case '--pretty': if (command !== 'sub') unknown(flag, command); o.pretty = true; break
        case '--random-filter': {
            const n = Number(value)
            if (!(n > 0 && n <= 100)) throw new UsageError('Invalid --random-filter value: it must be greater than 0 and at most 100.')
            o.randomFilter = n
            break
        }
        case '--repeat': o.repeat = int('repeat', value, 1, Number.MAX_SAFE_INTEGER, 'Invalid --repeat value (must be at least 1).'); break
        case '--repeat-delay': {
            const n = Number(value)
            if (!(n >= 0) || !Number.isFinite(n)) throw new UsageError(`Invalid --repeat-delay value: ${value}`)
            o.repeatDelay = n
            break
        }
        case '-M': o.maxInflight = int('max inflight', value, 1, 65535, `Invalid max inflight given: ${value}`); break
        case '-L': case '--url': url(o, value); break
        case '-V': case '--protocol-version':
            if (['mqttv311', '311', 'mqttv31', '31'].includes(value)) {
                if (value.endsWith('31')) throw new UsageError('MQTT v3.1 is not supported by fiber-mqtt: use mqttv311.')
                o.protocol = 4
                break
            }
            if (['mqttv5', '5'].includes(value)) {
                o.protocol = 5
                break
            }
            throw new UsageError(`Invalid protocol version argument given: ${value}`)
        case '--cafile': o.cafile = value; o.tls = true; break
        case '--capath': o.capath = value; o.tls = true; break
        case '--cert': o.cert = value; o.tls = true; break
        case '--key': o.key = value; o.tls = true; break
        case '--ciphers': o.ciphers = value; break
        case '--tls-version':
            if (!['tlsv1.3', 'tlsv1.2', 'tlsv1.1'].includes(value)) throw new UsageError(`Invalid --tls-version value: ${value}`)
            o.tlsVersion = value
            break
        case '--tls-use-os-certs': o.tlsUseOsCerts = true; o.tls = true; break
        case '--insecure': o.insecure = true; break
        case '--nodelay': break
        case '--alpn': case '--tls-alpn': o.alpn = value; o.tls = true; break
        case '--will-topic':
            if (topicNameProblem(value) !== null) throw new UsageError(`Invalid will topic '${value}', does it contain '+' or '#'?`)
            willTopic = value
            break
        case '--will-payload': willPayload = value; break
        case '--will-qos': willQos = qos(value, 'will QoS'); break
        case '--will-retain': willRetain = true; break
        case '-x': case '--session-expiry-interval': {
            /* Seconds; -1, 4294967295 or ∞: a session that does not expire */
            const n = value === '∞' || value === '-1' ? 4_294_967_295 : Number(value)
            if (!Number.isInteger(n) || n < 0 || n > 4_294_967_295) throw new UsageError(`Invalid session expiry interval given: ${value}`)
            o.sessionExpiry = n
            break
        }
        case '-D': case '--property':
            try {
                i = parseProperty(argv, i + 1, o.properties)
            } catch (err) {
                throw new UsageError((err as Error).message)
            }
            /* As mosquitto: a property makes the client MQTT 5 (a later -V may set it back) */
            o.protocol = 5
            break
        case '--retain-as-published': if (command !== 'sub') unknown(flag, command); o.retainAsPublished = true; break
        case '-A': o.bind = value; break
        case '--psk':
            if (!/^([0-9a-fA-F]{2})+$/.test(value)) throw new UsageError('Invalid --psk: a pre-shared key in hexadecimal (no leading 0x).')
            o.psk = value
            o.tls = true
            break
        case '--psk-identity': o.pskIdentity = value; o.tls = true; break
        case '--proxy': throw new UsageError('--proxy (SOCKS) is not supported by fiber-mqtt.')
        case '--tls-engine': case '--keyform': case '--tls-engine-kpass-sha1':
            throw new UsageError(`${flag} (TLS engines) is not supported by fiber-mqtt.`)
        case '--help': o.help = true; break
        default:
            unknown(flag, command)
        }
    }
    if (o.help) {
        return o
    }
    if (o.port === 0) {
        o.port = o.tls ? 8883 : 1883
    }
    if (willTopic === null && (willPayload !== null || willQos !== 0 || willRetain)) {
        throw new UsageError('Will payload, QoS or retain given, but no will topic given.')
    }
    if (willTopic !== null) {
        o.will = { topic: willTopic, payload: willPayload ?? '', qos: willQos, retain: willRetain }
    }
    if (o.id !== null && o.idPrefix !== null) {
        throw new UsageError('-i and -I argument cannot be used together.')
    }
    if (!o.cleanSession && o.id === null && o.idPrefix === null) {
        throw new UsageError('You must provide a client id if you are using the -c option.')
    }
    if (o.id !== null && (o.id.length === 0 || Buffer.byteLength(o.id) > 65535)) {
        throw new UsageError('Invalid client id: it must be 1 to 65535 bytes.')
    }
    if ((o.user !== null && Buffer.byteLength(o.user) > 65535) || (o.password !== null && Buffer.byteLength(o.password) > 65535)) {
        throw new UsageError('Invalid user name or password: at most 65535 bytes.')
    }
    if (o.password !== null && o.user === null) {
        throw new UsageError('A password (-P) needs a user name (-u).')
    }
    if ((o.psk === null) !== (o.pskIdentity === null)) {
        throw new UsageError('--psk and --psk-identity must be given together.')
    }
    if (o.psk !== null && (o.cafile !== null || o.capath !== null || o.cert !== null)) {
        throw new UsageError('Only one of --psk or --cafile/--capath/--cert may be used at once.')
    }
    if ((o.cert === null) !== (o.key === null)) {
        throw new UsageError(`Both certfile and keyfile must be provided if one of them is set.`)
    }
    if (o.sessionExpiry !== null && o.protocol !== 5) {
        throw new UsageError('--session-expiry-interval is an MQTT v5 option: use -V mqttv5.')
    }
    if (o.protocol === 5) {
        try {
            checkProperties(o.properties)
        } catch (err) {
            throw new UsageError((err as PropertyError).message)
        }
    } else {
        /* As mosquitto: properties given before -V mqttv311 are not sent */
        o.properties = noProperties()
    }
    if (command === 'pub') {
        if (o.topics.length === 0) {
            throw new UsageError('No topic specified.')
        }
        const sources = [o.message !== null, o.file !== null, o.lines, o.nullMessage, o.stdin].filter(Boolean).length
        if (sources !== 1) {
            throw new UsageError(sources === 0 ? 'Both topic and message must be supplied.' : 'Only one type of message can be sent at once.')
        }
    } else {
        if (o.topics.length === 0 && o.unsubscribe.length === 0) {
            throw new UsageError('You must specify a topic to subscribe to.')
        }
        if (o.retainedOnly && o.noRetained) {
            throw new UsageError('--retained-only and -R cannot be used together.')
        }
    }
    return o
}

function unknown(flag: string, command: Command): never {
    void command
    throw new UsageError(`Unknown option '${flag}'.`)
}
