/*
    Command-line options shared by `fiber-mqtt pub` and `fiber-mqtt sub`, with mosquitto_pub / mosquitto_sub's
    letters and meanings.
 */
import { parseMqttUrl, type MqttUrl } from '../mqtt/url.js'

export class UsageError extends Error {}

export interface Options {
    host: string
    port: number
    topics: string[]
    message: string | null
    file: string | null
    lines: boolean
    nullMessage: boolean
    stdin: boolean
    qos: number
    retain: boolean
    id: string | null
    user: string | null
    password: string | null
    keepAlive: number
    verbose: boolean
    count: number
    timeout: number
    debug: boolean
    cleanSession: boolean
    noNewline: boolean
    noRetained: boolean
    cafile: string | null
    cert: string | null
    key: string | null
    insecure: boolean
    alpn: string | null
    tls: boolean
    help: boolean
}

const WITH_VALUE = new Set(['-h', '-p', '-t', '-m', '-f', '-q', '-i', '-u', '-P', '-k', '-C', '-W', '-L', '--cafile', '--cert', '--key', '--alpn', '--tls-alpn', '--will-topic'])

function number(flag: string, value: string, min: number, max: number): number {
    const n = Number(value)
    if (!Number.isInteger(n) || n < min || n > max) {
        throw new UsageError(`Invalid ${flag} value '${value}'.`)
    }
    return n
}

/** Parse `mqtt(s)://[user[:password]@]host[:port]/topic` into the options (the library's parser: '#' and '+' kept). */
function url(o: Options, value: string): void {
    let u: MqttUrl
    try {
        u = parseMqttUrl(value)
    } catch (err) {
        throw new UsageError(`Invalid URL for -L: ${(err as Error).message}`)
    }
    o.tls = u.tls
    o.host = u.host
    o.port = u.port
    if (u.username !== null) o.user = u.username
    if (u.password !== null) o.password = u.password
    if (u.topic !== null) o.topics.push(u.topic)
}

export function parseArgs(argv: string[], command: 'pub' | 'sub'): Options {
    const o: Options = {
        host: 'localhost', port: 0, topics: [], message: null, file: null, lines: false, nullMessage: false, stdin: false,
        qos: 0, retain: false, id: null, user: null, password: null, keepAlive: 60, verbose: false, count: 0, timeout: 0,
        debug: false, cleanSession: true, noNewline: false, noRetained: false, cafile: null, cert: null, key: null,
        insecure: false, alpn: null, tls: false, help: false,
    }
    for (let i = 0; i < argv.length; i++) {
        const flag = argv[i]
        let value = ''
        if (WITH_VALUE.has(flag)) {
            if (i + 1 >= argv.length) {
                throw new UsageError(`${flag} argument given but no ${flag === '-t' ? 'topic' : 'value'} specified.`)
            }
            value = argv[++i]
        }
        switch (flag) {
        case '-h': o.host = value; break
        case '-p': o.port = number('port', value, 1, 65535); break
        case '-t':
            if (command === 'pub' && o.topics.length > 0) throw new UsageError('Only one topic may be given for a publish.')
            o.topics.push(value)
            break
        case '-m': o.message = value; break
        case '-f': o.file = value; break
        case '-l': o.lines = true; break
        case '-n': o.nullMessage = true; break
        case '-s': o.stdin = true; break
        case '-q':
            if (!/^[0-2]$/.test(value)) throw new UsageError(`Invalid QoS given: ${value}`)
            o.qos = Number(value)
            break
        case '-r': o.retain = true; break
        case '-i': o.id = value; break
        case '-u': o.user = value; break
        case '-P': o.password = value; break
        case '-k': o.keepAlive = number('keepalive', value, 0, 65535); break
        case '-v': o.verbose = true; break
        case '-C': o.count = number('message count', value, 1, Number.MAX_SAFE_INTEGER); break
        case '-W': o.timeout = number('timeout', value, 1, 3600 * 24 * 365); break
        case '-d': o.debug = true; break
        case '-c': o.cleanSession = false; break
        case '-N': o.noNewline = true; break
        case '-R': o.noRetained = true; break
        case '-L': url(o, value); break
        case '--cafile': o.cafile = value; o.tls = true; break
        case '--cert': o.cert = value; o.tls = true; break
        case '--key': o.key = value; o.tls = true; break
        case '--insecure': o.insecure = true; break
        case '--alpn':
        case '--tls-alpn': o.alpn = value; o.tls = true; break
        case '--help': o.help = true; break
        default:
            throw new UsageError(`Unknown option '${flag}'.`)
        }
    }
    if (o.help) {
        return o
    }
    if (o.port === 0) {
        o.port = o.tls ? 8883 : 1883
    }
    if (o.topics.length === 0) {
        throw new UsageError(command === 'pub' ? 'No topic specified.' : 'You must specify a topic to subscribe to.')
    }
    if (command === 'pub') {
        const sources = [o.message !== null, o.file !== null, o.lines, o.nullMessage, o.stdin].filter(Boolean).length
        if (sources !== 1) {
            throw new UsageError(sources === 0 ? 'Nothing to publish: give one of -m, -f, -l, -n or -s.' : 'Only one of -m, -f, -l, -n and -s may be given.')
        }
        if (/[+#]/.test(o.topics[0])) {
            throw new UsageError(`Invalid publish topic '${o.topics[0]}', does it contain '+' or '#'?`)
        }
    }
    if ((o.cert === null) !== (o.key === null)) {
        throw new UsageError('Both --cert and --key must be given for a client certificate.')
    }
    if (o.password !== null && o.user === null) {
        throw new UsageError('A password (-P) needs a user name (-u).')
    }
    return o
}

export const USAGE = {
    pub: `Usage: fiber-mqtt pub {[-h host] [-p port] [-u username] [-P password] -t topic | -L URL}
                       {-f file | -l | -n | -m message | -s}
                       [-q qos] [-r] [-i id] [-k keepalive] [-d]
                       [--cafile file] [--cert file --key file] [--insecure] [--alpn protocol]
 -f : send the contents of a file as the message.      -l : read messages from stdin, one per line.
 -m : message payload to send.                         -n : send a null (zero length) message.
 -s : read the message from stdin, whole.              -q : quality of service level (0, 1 or 2). Default 0.
 -r : message should be retained.                      -L : mqtt(s)://[username[:password]@]host[:port]/topic
 -h, -p, -i, -u, -P, -k, -d, --cafile, --cert, --key, --insecure, --alpn: as for mosquitto_pub.`,
    sub: `Usage: fiber-mqtt sub {[-h host] [-p port] [-u username] [-P password] -t topic ... | -L URL [-t topic]}
                       [-c] [-k keepalive] [-q qos] [-C msg_count] [-W timeout_secs] [-R] [-N] [-v]
                       [-i id] [-d] [--cafile file] [--cert file --key file] [--insecure] [--alpn protocol]
 -t : topic to subscribe to; may be repeated.          -v : print the topic before each message.
 -C : disconnect and exit after msg_count messages.    -W : exit after timeout_secs (exit code 27).
 -c : persistent session (clean session off).          -R : do not print stale (retained) messages.
 -N : do not add an end of line after each message.    -q : subscription QoS (0, 1 or 2). Default 0.`,
}
